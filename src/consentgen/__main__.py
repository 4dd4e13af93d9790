from consentgen.cli import main

main()
