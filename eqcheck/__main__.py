from eqcheck.cli import main

main()
