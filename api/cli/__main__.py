"""`python -m api.cli …` is `gongshi …`."""

from api.cli import app

app(prog_name="gongshi")
