DROP TABLE sign_in_throttles;

--bun:split

DROP TABLE server_keys;
