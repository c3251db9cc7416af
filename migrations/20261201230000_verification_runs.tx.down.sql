DROP TABLE verification_checkpoint;
DROP TABLE verification_runs;
