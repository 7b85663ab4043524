from lpa.cli import main

main()
