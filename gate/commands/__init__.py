"""One module per subcommand: ``add_arguments(parser)`` and ``main(args, env) -> exit code``."""
