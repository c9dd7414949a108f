from chorale_identity.bootstrap import build_app
from chorale_identity.settings import IdentitySettings
from chorale_runtime.serve import serve
from chorale_runtime.settings import load_settings


def main() -> None:
    settings = load_settings(IdentitySettings)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
