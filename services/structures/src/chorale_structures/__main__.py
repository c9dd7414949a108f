from chorale_runtime.serve import serve
from chorale_runtime.settings import load_settings
from chorale_structures.bootstrap import build_app
from chorale_structures.settings import StructuresSettings


def main() -> None:
    settings = load_settings(StructuresSettings)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
