from entqa_kit.cli.main import app

app(prog_name="entqa-kit")
