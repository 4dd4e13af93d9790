from consentgen.cli.launch import main

main()
