DROP TABLE publisher_settings;
