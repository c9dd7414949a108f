from chorale_invoices.bootstrap import build_app
from chorale_invoices.settings import InvoicesSettings
from chorale_runtime.serve import serve
from chorale_runtime.settings import load_settings


def main() -> None:
    settings = load_settings(InvoicesSettings)
    serve(build_app(settings), settings)


if __name__ == "__main__":
    main()
