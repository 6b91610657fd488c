package hotswap.cli;

import java.util.List;

/** A subcommand of the CLI: its name, a one-line summary, and the help text generated from them. */
enum Command {
    CP("cp", "Copy a database into or out of the running app",
            "hotswap cp SRC DST [options]",
            """
            Exactly one of SRC and DST must be a database the app manages. Copying onto it replaces \
            it (a push); copying from it takes a consistent snapshot (a pull). - means standard \
            input (push) or standard output (pull). Paths are resolved as the file system does, \
            from this shell's directory and through symbolic links. A word without / that is \
            no file here names a database by its name in the app (its file name unless the app \
            gave it one; 'database' is the first one): a path that exists wins over a name.

            A remote app is named [user@]HOST:PATH, as with scp (~/ is your home there; an IPv6 \
            address in brackets, [::1]:PATH; a local file with a colon in its name is written ./NAME). hotswap runs --rsh HOST, which starts 'hotswap relay' in \
            --remote-dir there; PATH is resolved there from that directory, and every check of a \
            local cp applies there. Errors from that side read "ERROR: on HOST: ...".

            With --delta, only the pages that differ travel: a push rebuilds the file in the app \
            from a snapshot of the live database, a pull patches a copy of an existing DST; either \
            way the result is what a whole copy gives, checked by hash. On by default for a remote \
            app, where pages are also deflated; a different page size, or a DST that is not a \
            SQLite database, goes whole, said once. A remote push left to the default first \
            compares 32 pages spread over the file with the live database's, and goes whole when \
            fewer than 1 in 8 match; --delta compares every page anyway.

            A push refuses a source whose -wal or -journal still holds transactions, or that \
            another process has open for writing (a live database by another name), and a swap \
            refuses while another process has the live database open. A pulled file gets the live \
            database's permission bits, less the umask; a pull refuses a pipe or a device as DST \
            (use - > DST). After -- every word is a path. hotswap talks only to an app that runs \
            as the same user.""",
            List.of(
                    "--skip-integrity-check  push without running PRAGMA integrity_check on the new file",
                    "--quick-check           run PRAGMA quick_check instead of integrity_check (faster on large files)",
                    "--skip-schema-check     push even when the new schema differs from the live one",
                    "--timeout MS            how long the swap may hold requests (draining them, checkpointing) before it\n                          gives up, changing nothing (default: the app's, 5000)",
                    "--keep-previous         keep the replaced database beside the new one as DB.previous (replacing one kept before)",
                    "--force                 swap even when the app holds connections hotswap does not manage, or another\n"
                            + "                          process has the database open (unsafe)",
                    "-q, --quiet             no progress line (shown only when stderr is a terminal)",
                    "--delta, --no-delta     move only the pages that differ (default: on for a remote app, off here;",
                    "                        --delta also where a sample of pages finds little alike)",
                    "--compress, --no-compress",
                    "                        deflate those pages, and a whole copy to or from a remote app, where",
                    "                        that makes them smaller and the link is slower than deflating (default:",
                    "                        on for a remote app, off here)",
                    "--rsh CMD               the transport to a remote app; the host is appended, or replaces a word",
                    "                        {host}, and the remote command comes last (default: $HOTSWAP_RSH, else ssh)",
                    "--remote-dir DIR        the directory PATH and the app's socket are relative to there",
                    "                        (default: the login directory)",
                    "--remote-hotswap PATH   the hotswap to run there (default: bin/hotswap in --remote-dir",
                    "                        when executable, else hotswap on the remote PATH)"),
            List.of(
                    "$ hotswap cp new.sqlite3 db/production.sqlite3",
                    "$ cat new.sqlite3 | hotswap cp - db/production.sqlite3",
                    "$ hotswap cp db/production.sqlite3 backup.sqlite3",
                    "$ hotswap cp new.sqlite3 primary",
                    "$ hotswap cp db/production.sqlite3 - > backup.sqlite3",
                    "$ hotswap cp new.sqlite3 deploy@app.example.com:db/production.sqlite3 --remote-dir /srv/app",
                    "$ hotswap cp myapp:/app/db/production.sqlite3 backup.sqlite3 --rsh 'fly ssh console -a {host} -C' --remote-dir /app")),
    STATUS("status", "Show what the running app's hotswap is doing",
            "hotswap status [HOST:] [--json]",
            """
            Prints the app's hotswap version, uptime, socket and control sessions in use; the \
            requests in flight and waiting at the gate; and for each managed database its name, \
            path, size, pages, journal mode, -wal size, and its swaps and pulls since the app \
            started, with the last of each. It scans no database, never waits for a swap, and changes nothing. \
            HOST: asks the app on another machine, through --rsh as a remote cp does.""",
            List.of(
                    "--json                  print one JSON object instead of the table",
                    "--rsh CMD               the transport to a remote app (default: $HOTSWAP_RSH, else ssh)",
                    "--remote-dir DIR        the directory the app's socket is relative to there (default: the login directory)",
                    "--remote-hotswap PATH   the hotswap to run there (default: bin/hotswap in --remote-dir, else hotswap)"),
            List.of(
                    "$ hotswap status",
                    "$ hotswap status --json | jq '.databases[0].lastSwap'",
                    "$ hotswap status deploy@app.example.com: --remote-dir /srv/app")),
    RELAY("relay", "The remote end of a remote cp (run by it; not for people)",
            "hotswap relay",
            """
            Speaks hotswap's protocol on standard input and output: a remote cp starts it through \
            its --rsh transport. It resolves the remote PATH from its working directory and talks \
            to the app's socket (--socket, else $HOTSWAP_SOCKET, else tmp/sockets/hotswap.sock) \
            only when the app runs as its own user.""",
            List.of(), List.of()),
    VERSION("version", "Print the version of this client", "hotswap version", "", List.of(), List.of("$ hotswap version")),
    HELP("help", "Show help for a command", "hotswap help [COMMAND]", "", List.of(), List.of("$ hotswap help cp"));

    final String name;
    final String summary;
    final String usage;
    final String description;
    final List<String> options;
    final List<String> examples;

    Command(String name, String summary, String usage, String description, List<String> options, List<String> examples) {
        this.name = name;
        this.summary = summary;
        this.usage = usage;
        this.description = description;
        this.options = options;
        this.examples = examples;
    }

    static Command named(String name) {
        for (Command c : values()) {
            if (c.name.equals(name)) {
                return c;
            }
        }
        return null;
    }

    String help() {
        StringBuilder b = new StringBuilder(summary).append(".\n\nUsage:\n  ").append(usage).append('\n');
        if (!description.isEmpty()) {
            b.append('\n').append(description).append('\n');
        }
        if (!options.isEmpty()) {
            b.append("\nOptions:\n");
            options.forEach(o -> b.append("  ").append(o).append('\n'));
        }
        b.append(GLOBAL_OPTIONS);
        if (!examples.isEmpty()) {
            b.append("\nExamples:\n");
            examples.forEach(e -> b.append("  ").append(e).append('\n'));
        }
        return b.toString();
    }

    static final String GLOBAL_OPTIONS = """

            Global options:
              --socket PATH           the app's control socket (default: $HOTSWAP_SOCKET, else tmp/sockets/hotswap.sock,
                                      relative to this shell's directory; for a remote cp, the socket there,
                                      relative to --remote-dir)
              -h, --help              show help
            """;

    static String overview() {
        StringBuilder b = new StringBuilder("hotswap: replace or snapshot the SQLite database of a running app.\n\n"
                + "Usage:\n  hotswap [--socket PATH] COMMAND [ARGS]\n\nCommands:\n");
        for (Command c : values()) {
            b.append(String.format("  %-8s %s%n", c.name, c.summary));
        }
        b.append(GLOBAL_OPTIONS);
        b.append("\nRun 'hotswap help COMMAND' for a command's options and examples.\n");
        return b.toString();
    }
}
