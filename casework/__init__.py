"""Casework: what enterprises and departments do through the platform, beyond publishing.

- `publishing` — the platform puts an envelope on the publication log on someone's behalf,
  signed with its own key for that principal (`enterprise:USCC[/user:…]`, `job:annual-reports`,
  `department:TJ-AMR/key:…`): one path into the history, applied by the ingestion worker like any
  publication, exactly once, with its status;
- `desk` — an enterprise's use cases (its obligations, annual-report drafts and filings,
  disclosures, applications), one method each;
- `obligations` — where an entity stands: its annual reports per year, disclosures, applications;
- `jobs` — the deadline rules run as jobs (`gongshi jobs run NAME --as-of DATE`, daily in `serve`).

Pure use cases over the domain and the adapters' ports: no HTTP, no SQL, no Kafka here.
"""
