from jobcast.entry import main

main()
