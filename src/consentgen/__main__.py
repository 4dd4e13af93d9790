from consentgen.launch import main

main()
