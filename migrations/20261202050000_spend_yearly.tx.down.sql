DROP TRIGGER spend_yearly_move ON spend_entries;
DROP TRIGGER spend_yearly_add ON spend_entries;
DROP FUNCTION spend_yearly_move();
DROP FUNCTION spend_yearly_add();
DROP TABLE spend_yearly;
