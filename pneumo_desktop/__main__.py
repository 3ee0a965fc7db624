from pneumo_desktop.launcher import main

raise SystemExit(main())
