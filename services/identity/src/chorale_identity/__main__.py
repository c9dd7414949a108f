from chorale_identity.bootstrap import build_app
from chorale_identity.service_layer.secrets_at_rest import check_or_exit
from chorale_identity.settings import IdentitySettings
from chorale_runtime.serve import serve
from chorale_runtime.settings import load_settings


def main() -> None:
    settings = load_settings(IdentitySettings)
    check_or_exit(settings)  # the stored secrets open with the configured key, or no start
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
