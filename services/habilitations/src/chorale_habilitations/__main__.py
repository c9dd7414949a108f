from chorale_habilitations.bootstrap import build_app
from chorale_habilitations.settings import HabilitationsSettings
from chorale_runtime.serve import serve
from chorale_runtime.settings import load_settings


def main() -> None:
    settings = load_settings(HabilitationsSettings)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
