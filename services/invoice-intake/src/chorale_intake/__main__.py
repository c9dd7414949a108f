from chorale_intake.bootstrap import build_app
from chorale_intake.settings import IntakeSettings
from chorale_runtime.serve import serve
from chorale_runtime.settings import load_settings


def main() -> None:
    settings = load_settings(IntakeSettings)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
