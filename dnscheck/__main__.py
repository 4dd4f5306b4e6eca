from dnscheck.cli import main

main()
