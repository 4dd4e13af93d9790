from consentgen.cli.typer_app import main

main()
