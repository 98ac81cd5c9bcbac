from bigflow.cli import main

main()
