"""The suite's command lines as functions: each module's `main(argv)` is what its thin file
at the repository root or in scripts/ runs."""
