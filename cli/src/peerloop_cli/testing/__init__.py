"""What every test suite shares, importable from services' own test folders and tests/.

- `plugin`: the session fixtures (real Kafka, store, identity provider, `run_id`,
  `mongo_db_name`), loaded for every suite by the root conftest.py;
- `waiting`: `eventually` (a condition comes true) and `answers` (a service's
  readiness endpoint answers);
- `topics`: `read_records` (a topic read to its end, or until enough records matched);
- `groups`: new consumer groups that start at the topics' ends;
- `names`: `unique_name` for run ids, databases and topics;
- `kafka_tools`: Kafka's own command-line tools, run from the local broker's jars.
"""
