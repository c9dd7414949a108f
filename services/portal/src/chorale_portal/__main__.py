from chorale_portal.bootstrap import build_app
from chorale_portal.settings import PortalSettings
from chorale_runtime.serve import serve
from chorale_runtime.settings import load_settings


def main() -> None:
    settings = load_settings(PortalSettings)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
