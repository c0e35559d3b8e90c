-- Runs once, when the postgres volume is first initialised (docker-entrypoint-initdb.d).
-- POSTGRES_DB creates the warehouse database; Airflow keeps its metadata in its own.
CREATE DATABASE airflow OWNER dataflow;
