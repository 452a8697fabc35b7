"""The `gongshi` command line (console script `gongshi = "api.cli:app"`).

- `publish` — data in: `generate`, `publish` (onto the log or through the gateway, then wait for
  the statuses; `publishing` holds the file/gateway/status machinery), `load`;
- `run` — running the platform: `serve`, `run ingest|projections|api`;
- `admin` — operating it: `parked`, `departments …`, `dlq list`, `projections …`, `jobs run …`
  (`dead_letters` reads the DLQ);
- `enterprises` — enterprise accounts: `invite` (the activation code), `disable`, `show`;
- `cases` — a department's desk: `repairs list|decide`, `objections list|decide`;
- `match` — `match FILE.csv --out FILE.csv`: batch matching (the API's matcher), on the access log;
- `keys` — the other roles' keys: `agencies …`, `admins …`, `public-keys …`, and `audit refusals`;
- `export` — open data: `export snapshot|delta|apply|verify`.
"""

from __future__ import annotations

import typer

from api.cli import admin, cases, enterprises, export, keys, match, publish, run

app = typer.Typer(
    help="Gongshi 公示 — market-entity credit information publicity platform.", no_args_is_help=True
)
# the commands, in the order `gongshi --help` lists them
app.command()(publish.generate)
app.command()(publish.publish)
app.command()(run.run)
app.command()(run.serve)
app.command()(publish.load)
app.command()(match.match)
app.command()(admin.parked)
app.add_typer(admin.departments_app, name="departments")
app.add_typer(admin.dlq_app, name="dlq")
app.add_typer(admin.projections_app, name="projections")
app.add_typer(admin.jobs_app, name="jobs")
app.command("backup")(admin.backup_command)
app.command("restore")(admin.restore_command)
app.add_typer(admin.persons_app, name="persons")
app.add_typer(enterprises.enterprises_app, name="enterprises")
app.add_typer(cases.repairs_app, name="repairs")
app.add_typer(cases.objections_app, name="objections")
app.add_typer(keys.agencies_app, name="agencies")
app.add_typer(keys.admins_app, name="admins")
app.add_typer(keys.public_keys_app, name="public-keys")
app.add_typer(keys.audit_app, name="audit")
app.add_typer(export.export_app, name="export")

__all__ = ["app"]
