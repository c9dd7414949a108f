from chorale_notifications.bootstrap import build_app
from chorale_notifications.settings import NotificationsSettings
from chorale_runtime.serve import serve
from chorale_runtime.settings import load_settings


def main() -> None:
    settings = load_settings(NotificationsSettings)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
