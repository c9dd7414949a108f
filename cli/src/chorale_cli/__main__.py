from chorale_cli.main import app

app(prog_name="chorale")
