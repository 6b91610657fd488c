package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The command line as users meet it: the real jar run as a child process. */
class CliTest {
    private static final String CP_USAGE = "hotswap cp SRC DST [options]";

    Path client;
    RunningApp app;

    @BeforeEach
    void setUp() throws Exception {
        client = Fixtures.tempDir();
    }

    @AfterEach
    void tearDown() {
        if (app != null) {
            app.close();
        }
        Fixtures.deleteTree(client);
    }

    // ---- usage errors: exit 2, message and usage on stderr, nothing on stdout ----

    static Stream<Arguments> usageErrors() {
        return Stream.of(
                Arguments.of(List.of("frobnicate"), "unknown command frobnicate", "Commands:"),
                Arguments.of(List.of(), "no command given", "Commands:"),
                // Both are commands: the error is the count, not an "unknown command cp".
                Arguments.of(List.of("help", "cp", "status"), "help takes one COMMAND, got 2: cp status", "hotswap help [COMMAND]"),
                Arguments.of(List.of("cp", "--frob", "a.sqlite3", "b.sqlite3"), "unknown option --frob for cp", CP_USAGE),
                Arguments.of(List.of("cp", "a.sqlite3"), "cp needs exactly two paths", CP_USAGE),
                Arguments.of(List.of("cp", "-", "-"), "SRC and DST cannot both be -", CP_USAGE),
                Arguments.of(List.of("cp", "--timeout", "abc", "a.sqlite3", "b.sqlite3"),
                        "--timeout takes a positive number of milliseconds, got abc", CP_USAGE),
                Arguments.of(List.of("cp", "--timeout=", "a.sqlite3", "b.sqlite3"),
                        "--timeout takes a positive number of milliseconds, got nothing", CP_USAGE),
                Arguments.of(List.of("cp", "--skip-integrity-check", "--quick-check", "a.sqlite3", "b.sqlite3"),
                        "--skip-integrity-check and --quick-check contradict each other", CP_USAGE),
                // An option given twice with two values: neither is silently dropped.
                Arguments.of(List.of("cp", "--timeout", "100", "a.sqlite3", "b.sqlite3", "--timeout=200"),
                        "--timeout is given twice, as 100 and as 200; give it once", CP_USAGE),
                Arguments.of(List.of("cp", "a.sqlite3", "host:b.sqlite3", "--remote-dir", "/srv/a", "--remote-dir", "/srv/b"),
                        "--remote-dir is given twice, as /srv/a and as /srv/b; give it once", CP_USAGE),
                Arguments.of(List.of("--socket", "a.sock", "cp", "a.sqlite3", "b.sqlite3", "--socket", "b.sock"),
                        "--socket is given twice, as a.sock and as b.sock; give it once", CP_USAGE),
                Arguments.of(List.of("status", "host:", "--rsh", "ssh", "--rsh=fly"),
                        "--rsh is given twice, as ssh and as fly; give it once", "hotswap status"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("usageErrors")
    void usageErrorExitsTwoWithTheMessageAndTheUsage(List<String> args, String message, String usage) throws Exception {
        // A socket that does not exist: if the arguments were wrongly accepted, the run fails with 1, not 2.
        Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", client.resolve("none.sock").toString()), null,
                args.toArray(String[]::new));
        assertEquals(2, r.exit(), r.toString());
        assertEquals("", r.out(), r.toString());
        assertTrue(r.stderr().startsWith("ERROR: ") && r.stderr().lines().findFirst().orElseThrow().contains(message), r.toString());
        assertTrue(r.stderr().contains(usage), r.toString());
        // A command's usage error stays on screen: its usage line and where its help is, not the whole help.
        if (!usage.equals("Commands:")) {
            assertTrue(r.stderr().lines().count() <= 3, r.toString());
            assertTrue(r.stderr().contains("Run 'hotswap help "), r.toString());
        }
    }

    // ---- version and help ----

    @Test
    void versionPrintsExactlyOneLineWithOnlyTheJarOnTheClasspath() throws Exception {
        Fixtures.Result viaJar = Fixtures.cli(client, Map.of(), null, "version");
        Fixtures.Result viaClasspath = Fixtures.run(client, Map.of("CLASSPATH", ""), null,
                List.of(Fixtures.java(), "-cp", Fixtures.jar().toString(), "hotswap.cli.Main", "version"));
        for (Fixtures.Result r : List.of(viaJar, viaClasspath)) {
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.out().matches("hotswap \\d+\\.\\d+\\.\\d+\n"), r.toString());
            assertEquals("", r.stderr());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"help", "--help", "-h"})
    void helpExitsZeroAndListsTheCpCommand(String arg) throws Exception {
        Fixtures.Result r = Fixtures.cli(client, Map.of(), null, arg);
        assertEquals(0, r.exit(), r.toString());
        assertEquals("", r.stderr());
        assertTrue(r.out().contains("hotswap [--socket PATH] COMMAND [ARGS]"), r.toString());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("\\s+cp\\s+Copy a database .*")), r.toString());
        assertTrue(r.out().contains("hotswap help COMMAND"), r.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"help cp", "cp --help", "cp -h"})
    void helpForCpExitsZeroAndShowsItsUsageAndOptions(String args) throws Exception {
        Fixtures.Result r = Fixtures.cli(client, Map.of(), null, args.split(" "));
        assertEquals(0, r.exit(), r.toString());
        assertEquals("", r.stderr());
        for (String expected : List.of(CP_USAGE, "--skip-integrity-check", "--quick-check", "--skip-schema-check", "--timeout MS",
                "--socket PATH")) {
            assertTrue(r.out().contains(expected), expected + "\n" + r);
        }
    }

    // ---- finding the server ----

    @Test
    void missingSocketFailsWithNoHotswapServerAt() throws Exception {
        Path socket = client.resolve("nowhere.sock");
        Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", socket.toString()), null,
                "cp", "-", "db.sqlite3");
        assertNoServer(r, socket);
    }

    @Test
    void staleSocketFileFailsWithNoHotswapServerAt() throws Exception {
        Path socket = client.resolve("stale.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
        }
        assertTrue(Files.exists(socket), "closing a Unix server socket leaves its file behind");
        Fixtures.Result r = Fixtures.cli(client, Map.of(), null, "--socket", socket.toString(), "cp", "-", "db.sqlite3");
        assertNoServer(r, socket);
    }

    @Test
    void socketOptionOverridesHotswapSocketEnvironment() throws Exception {
        app = RunningApp.start("alpha", "bravo");
        Map<String, String> wrong = Map.of("HOTSWAP_SOCKET", client.resolve("wrong.sock").toString());
        Fixtures.Result r = Fixtures.cli(client, wrong, null, "--socket", app.socket.toString(), "cp", app.db.toString(), "-");
        assertEquals(0, r.exit(), r.toString());
        Files.write(client.resolve("pulled.sqlite3"), r.stdout());
        assertEquals(List.of("alpha", "bravo"), Fixtures.query(client.resolve("pulled.sqlite3"), "SELECT name FROM items ORDER BY id"));

        Fixtures.Result withoutOption = Fixtures.cli(client, wrong, null, "cp", app.db.toString(), "-");
        assertNoServer(withoutOption, client.resolve("wrong.sock"));
    }

    @Test
    void inADirectoryWhoseAbsolutePathIsTooLongForASocketAddressTheClientConnectsByTheRelativePath() throws Exception {
        // The app binds its default socket relative to its directory; the absolute path would not fit (106 bytes in Java).
        Path appDir = client.resolve("a-directory-name-long-enough-to-matter-" + "x".repeat(40)).resolve("app-" + "y".repeat(20));
        Files.createDirectories(appDir.resolve("db"));
        Path socket = appDir.resolve("tmp/sockets/hotswap.sock");
        assertTrue(socket.toString().length() > 110, socket.toString());
        Fixtures.itemsDb(appDir.resolve("db/production.sqlite3"), "alpha");
        ProcessBuilder app = new ProcessBuilder(Fixtures.java(), "-cp", Fixtures.jar() + File.pathSeparator + Fixtures.sqliteJar(),
                "hotswap.demo.DemoApp").directory(appDir.toFile()).redirectErrorStream(true)
                .redirectOutput(client.resolve("app.log").toFile());
        app.environment().keySet().removeAll(List.of("HOTSWAP_DB", "HOTSWAP_SOCKET"));
        app.environment().put("PORT", "0");
        Process demo = app.start();
        try {
            for (int i = 0; i < 3000 && !Files.exists(socket) && demo.isAlive(); i++) {
                Thread.sleep(10);
            }
            assertTrue(Files.exists(socket), "the app did not start:\n" + Files.readString(client.resolve("app.log")));
            Fixtures.itemsDb(appDir.resolve("new.sqlite3"), "x", "y");

            Fixtures.Result push = Fixtures.cli(appDir, Map.of(), null, "cp", "new.sqlite3", "db/production.sqlite3");
            assertEquals(0, push.exit(), push.toString());
            assertEquals("OK\n", push.out());

            Fixtures.Result pull = Fixtures.cli(appDir, Map.of(), null, "cp", "db/production.sqlite3", "backup.sqlite3");
            assertEquals(0, pull.exit(), pull.toString());
            assertEquals(List.of("x", "y"), Fixtures.query(appDir.resolve("backup.sqlite3"), "SELECT name FROM items ORDER BY id"));
        } finally {
            demo.destroy();
            demo.waitFor();
        }
    }

    @Test
    void aSocketPathTooLongEvenRelativeToThisDirectorySaysSoAndHowToFixIt() throws Exception {
        String tooLong = "sockets/" + "z".repeat(120) + ".sock";
        InProcess r = InProcess.run(client, Map.of("HOTSWAP_SOCKET", tooLong), "cp", "-", "db.sqlite3");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.err().startsWith("ERROR: the socket path " + client.resolve(tooLong) + " is too long: a Unix socket address "
                + "holds at most 106 bytes"), r.toString());
        assertTrue(r.err().contains("point --socket (or HOTSWAP_SOCKET) at a shorter path"), r.toString());
    }

    // ---- routing: exactly one side must be managed ----

    @Test
    void neitherPathManagedFailsAndListsTheManagedDatabase() throws Exception {
        app = RunningApp.start("alpha");
        Fixtures.itemsDb(client.resolve("a.sqlite3"), "x");
        Fixtures.Result r = app.cli(client, null, "cp", "a.sqlite3", "b.sqlite3");
        assertEquals(1, r.exit(), r.toString());
        String error = errorLine(r);
        assertTrue(error.contains("neither " + client.resolve("a.sqlite3") + " nor " + client.resolve("b.sqlite3")
                + " is a managed database"), r.toString());
        assertTrue(error.contains("Managed: production.sqlite3 (" + app.db.toRealPath() + ")"), r.toString());
        assertFalse(Files.exists(client.resolve("b.sqlite3")));
    }

    @Test
    void bothPathsManagedFails() throws Exception {
        app = RunningApp.start("alpha");
        byte[] before = Files.readAllBytes(app.db);
        Fixtures.Result r = app.cli(client, null, "cp", app.db.toString(), app.db.toString());
        assertEquals(1, r.exit(), r.toString());
        assertTrue(errorLine(r).contains(app.db.toRealPath() + ", the same managed database; nothing changed."), r.toString());
        assertArrayEquals(before, Files.readAllBytes(app.db));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    @Test
    void missingLocalSourceFailsAndLeavesTheLiveDatabase() throws Exception {
        app = RunningApp.start("alpha", "bravo");
        byte[] before = Files.readAllBytes(app.db);
        Fixtures.Result r = app.cli(client, null, "cp", "missing.sqlite3", app.db.toString());
        assertEquals(1, r.exit(), r.toString());
        // A word with no file there may be a name, which only the app knows: it says which databases it has.
        assertEquals("ERROR: cannot read missing.sqlite3: no such file, and no managed database has that name; nothing changed. "
                + "Managed: production.sqlite3 (" + app.db.toRealPath() + ")", errorLine(r), r.toString());
        assertArrayEquals(before, Files.readAllBytes(app.db));
        assertEquals("[\"alpha\",\"bravo\"]", app.get("/items").body());
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    @Test
    void aPathThroughASymbolicLinkAndDotDotMeansTheFileTheKernelFinds() throws Exception {
        app = RunningApp.start("alpha", "bravo");
        // db/link/.. is elsewhere, not db: the kernel takes .. after following the link.
        Path elsewhere = Fixtures.tempDir();
        try {
            Files.createDirectory(elsewhere.resolve("sub"));
            Fixtures.itemsDb(elsewhere.resolve("production.sqlite3"), "not", "managed");
            Files.createSymbolicLink(app.db.getParent().resolve("link"), elsewhere.resolve("sub"));
            byte[] before = Files.readAllBytes(app.db);
            String viaLink = "db/link/../production.sqlite3";

            Fixtures.Result pull = app.cli(app.dir, null, "cp", viaLink, client.resolve("out.sqlite3").toString());
            assertEquals(1, pull.exit(), pull.toString());
            assertTrue(errorLine(pull).startsWith("ERROR: neither " + elsewhere.toRealPath().resolve("production.sqlite3") + " nor "
                    + client.toRealPath().resolve("out.sqlite3") + " is a managed database"), pull.toString());
            assertFalse(Files.exists(client.resolve("out.sqlite3")), "the managed database was pulled");

            Fixtures.itemsDb(client.resolve("new.sqlite3"), "x");
            Fixtures.Result push = app.cli(app.dir, null, "cp", client.resolve("new.sqlite3").toString(), viaLink);
            assertEquals(1, push.exit(), push.toString());
            assertTrue(errorLine(push).contains("is a managed database"), push.toString());
            assertArrayEquals(before, Files.readAllBytes(app.db), "the managed database was replaced");
            assertEquals("[\"alpha\",\"bravo\"]", app.get("/items").body());
        } finally {
            Fixtures.deleteTree(elsewhere);
        }
    }

    // ---- what a push must not lose ----

    @Test
    void aPushFromASourceWhoseWalHoldsCommittedRowsIsRefusedAndChangesNothing() throws Exception {
        app = RunningApp.start("alpha", "bravo");
        byte[] before = Files.readAllBytes(app.db);
        Path source = Fixtures.itemsDb(client.resolve("new.sqlite3"));
        // An open connection keeps its commits in new.sqlite3-wal: SQLite checkpoints them when the last one closes.
        try (java.sql.Connection writer = java.sql.DriverManager.getConnection("jdbc:sqlite:" + source);
             java.sql.Statement s = writer.createStatement()) {
            s.execute("INSERT INTO items(name) VALUES ('committed'), ('rows')");
            assertTrue(Files.size(client.resolve("new.sqlite3-wal")) > 0, "the rows should be in the -wal");

            Fixtures.Result r = app.cli(client, null, "cp", "new.sqlite3", app.db.toString());

            assertEquals(1, r.exit(), r.toString());
            assertEquals("ERROR: new.sqlite3-wal holds committed transactions that are not in new.sqlite3 yet, and a push "
                    + "sends new.sqlite3 alone; nothing was sent and nothing changed. Checkpoint them into new.sqlite3 first: "
                    + "sqlite3 new.sqlite3 'PRAGMA wal_checkpoint(TRUNCATE)'", errorLine(r), r.toString());
            assertFalse(r.stderr().contains("Swapping database"), "a push refused before a byte is sent swaps nothing: " + r);
        }
        assertTheAppStillServes(before);
    }

    /**
     * A source file that shrinks while it is sent (another program rewrites it): the frame under way
     * cannot be completed, and the push must end with the client saying so, not hang with the app
     * waiting for the rest of the frame and the client waiting for the app.
     */
    @Test
    void aPushWhoseSourceShrinksWhileItIsSentEndsSayingSoAndChangesNothing() throws Exception {
        app = RunningApp.start("alpha", "bravo");
        byte[] before = Files.readAllBytes(app.db);
        Path source = Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(source.toFile(), "rw")) {
            f.setLength(256L << 20); // a SQLite start, then holes: quick to send, slow enough to catch mid-way
        }
        java.util.concurrent.CompletableFuture<Fixtures.Result> push =
                Fixtures.concurrently(() -> app.cli(client, null, "cp", "new.sqlite3", app.db.toString()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        boolean truncated = false;
        while (!truncated && !push.isDone() && System.nanoTime() < deadline) {
            for (String name : Fixtures.leftovers(app.db.getParent())) {
                Path temp = app.db.resolveSibling(name);
                if (name.endsWith(".push") && Files.exists(temp) && Files.size(temp) > (1 << 20)) {
                    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(source.toFile(), "rw")) {
                        f.setLength(4096);
                    }
                    truncated = true;
                }
            }
        }
        assertTrue(truncated, "the push ended before the source could be cut short: " + push.getNow(null));
        Fixtures.Result r = push.get(90, TimeUnit.SECONDS);
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("ERROR: cannot read " + source.toRealPath() + ": it shrank while being sent; nothing changed"),
                r.toString());
        assertTheAppStillServes(before);
    }

    /**
     * A source whose read fails while it is sent (a disk error; here a file of the kernel's that
     * says it holds 4096 bytes and fails every read with EIO): as with one that shrinks, the frame
     * under way cannot be completed, and the push must end saying why, not hang with the app
     * waiting for the rest of the frame and the client waiting for the app.
     */
    @Test
    void aPushWhoseSourceFailsToReadWhileItIsSentEndsSayingSoAndChangesNothing() throws Exception {
        Path failing = Fixtures.unreadableFile();
        app = RunningApp.start("alpha", "bravo");
        byte[] before = Files.readAllBytes(app.db);
        Fixtures.Result r = app.cli(client, null, "cp", failing.toString(), app.db.toString());
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("ERROR: cannot read " + failing + ": Input/output error; nothing changed"), r.toString());
        assertTheAppStillServes(before);
    }

    /** {@code hotswap cp - DB < new.sqlite3} is a push from a file too: its -wal is checked the same way. */
    @Test
    void aPushFromStdinRedirectedFromAFileWhoseWalHoldsCommittedRowsIsRefusedAndChangesNothing() throws Exception {
        app = RunningApp.start("alpha", "bravo");
        byte[] before = Files.readAllBytes(app.db);
        Path source = client.resolve("new.sqlite3");
        try (java.sql.Connection writer = withACommittedRowInItsWal(source)) {
            List<String> command = List.of(Fixtures.java(), "-jar", Fixtures.jar().toString(), "cp", "-", app.db.toString());
            ProcessBuilder pb = new ProcessBuilder(command).directory(client.toFile()).redirectInput(source.toFile());
            pb.environment().putAll(app.env());
            Process p = pb.start();
            byte[] err = p.getErrorStream().readAllBytes();
            assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
            Fixtures.Result r = new Fixtures.Result(p.exitValue(), p.getInputStream().readAllBytes(),
                    new String(err, java.nio.charset.StandardCharsets.UTF_8));

            assertEquals(1, r.exit(), r.toString());
            assertTrue(errorLine(r).startsWith("ERROR: " + source.toRealPath() + "-wal holds committed transactions that are not in "
                    + source.toRealPath() + " yet"), r.toString());
        }
        assertTheAppStillServes(before);
    }

    /**
     * Another name (a hard link, as {@code cp -al} leaves) of a database a process is writing: its
     * committed rows sit in a -wal named after the name that process opened, which the check beside
     * the pushed name cannot see, and its bytes may change while they are sent. It was pushed without
     * those rows, and the client said OK.
     */
    @Test
    void aPushOfAnotherNameOfADatabaseAProcessIsWritingIsRefusedAndChangesNothing() throws Exception {
        app = RunningApp.start("alpha", "bravo");
        byte[] before = Files.readAllBytes(app.db);
        Path live = client.resolve("other.sqlite3");
        try (java.sql.Connection writer = withACommittedRowInItsWal(live)) {
            Files.createLink(client.resolve("copy.sqlite3"), live);

            Fixtures.Result r = app.cli(client, null, "cp", "copy.sqlite3", app.db.toString());

            assertEquals(1, r.exit(), r.toString());
            assertTrue(errorLine(r).startsWith("ERROR: copy.sqlite3 is open for writing in another process (pid "
                    + ProcessHandle.current().pid() + " java)") && errorLine(r).contains("nothing was sent and nothing changed"),
                    r.toString());
        }
        assertTheAppStillServes(before);
    }

    /**
     * A WAL database made at {@code db}, and a connection left open on it whose committed row is
     * still in the -wal: SQLite checkpoints it only when the last connection closes.
     */
    private static java.sql.Connection withACommittedRowInItsWal(Path db) throws Exception {
        Fixtures.itemsDb(db, "checkpointed");
        java.sql.Connection writer = java.sql.DriverManager.getConnection("jdbc:sqlite:" + db);
        try (java.sql.Statement s = writer.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("INSERT INTO items(name) VALUES ('committed')");
        }
        assertTrue(Files.size(Path.of(db + "-wal")) > 0, "the row should be in the -wal");
        return writer;
    }

    @Test
    void aPushFromASourceWithANonEmptyJournalIsRefusedAndChangesNothing() throws Exception {
        app = RunningApp.start("alpha", "bravo");
        byte[] before = Files.readAllBytes(app.db);
        Fixtures.createDb(client.resolve("new.sqlite3"), "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)",
                "INSERT INTO items(name) VALUES ('x')");
        // What a writer in a transaction (or one that crashed in it) leaves beside a rollback-journal database.
        Files.write(client.resolve("new.sqlite3-journal"), new byte[512]);

        Fixtures.Result r = app.cli(client, null, "cp", "new.sqlite3", app.db.toString());

        assertEquals(1, r.exit(), r.toString());
        assertTrue(errorLine(r).startsWith("ERROR: new.sqlite3-journal is not empty: a writer has new.sqlite3 open in a "
                + "transaction, or crashed in one; nothing was sent and nothing changed."), r.toString());
        assertArrayEquals(before, Files.readAllBytes(app.db));
        assertNoLeftoversIn(app.db.getParent());
    }

    @Test
    void aPushFromADeviceIsRefusedBeforeConnecting() throws Exception {
        app = RunningApp.start("alpha", "bravo");
        byte[] before = Files.readAllBytes(app.db);
        // A device or a pipe has no size to send: before, this pushed an empty database, which --skip-schema-check let in.
        InProcess r = InProcess.run(client, app.env(), "cp", "--skip-schema-check", "/dev/zero", app.db.toString());
        assertEquals(1, r.exit(), r.toString());
        assertEquals("ERROR: cannot read /dev/zero: not a regular file (a pipe or a device); nothing changed. "
                + "To push from a pipe, use -: hotswap cp - DST < /dev/zero\n", r.err(), r.toString());
        assertArrayEquals(before, Files.readAllBytes(app.db));
        assertEquals("[\"alpha\",\"bravo\"]", app.get("/items").body());
    }

    // ---- every failure reads as one ERROR line ----

    static Stream<Arguments> failuresBeforeConnecting() {
        return Stream.of(
                Arguments.of(List.of("cp", "-", "/"), "ERROR: no hotswap server at "),
                Arguments.of(List.of("cp", "a\0b.sqlite3", "-"), "ERROR: cannot use the path a\\0b.sqlite3: "),
                Arguments.of(List.of("cp", "-", "file.txt/out.sqlite3"), "ERROR: cannot write {client}/file.txt/out.sqlite3: "
                        + "{client}/file.txt is not a directory; nothing changed. Pull to a path in a directory\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("failuresBeforeConnecting")
    void aFailureIsOneErrorLineNeverAStackTraceOrNull(List<String> args, String expected) throws Exception {
        Files.writeString(client.resolve("file.txt"), "a regular file");
        InProcess r = InProcess.run(client, Map.of("HOTSWAP_SOCKET", client.resolve("none.sock").toString()), args.toArray(String[]::new));
        assertEquals(1, r.exit(), r.toString());
        String message = expected.replace("{client}", client.toString());
        assertTrue(message.endsWith("\n") ? r.err().equals(message) : r.err().startsWith(message), r.toString());
        assertEquals(1, r.err().lines().count(), r.toString());
        assertFalse(r.err().contains("null") || r.err().contains("Exception"), r.toString());
    }

    // ---- pull destinations ----

    @Test
    void pullIntoAnExistingDirectoryWritesTheDatabaseFileNameThere() throws Exception {
        app = RunningApp.start("alpha", "bravo");
        Files.createDirectory(client.resolve("backups"));
        Fixtures.Result r = app.cli(client, null, "cp", app.db.toString(), "backups");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("OK\n", r.stderr());
        assertEquals(List.of("production.sqlite3"), list(client.resolve("backups")));
        assertEquals(List.of("alpha", "bravo"),
                Fixtures.query(client.resolve("backups/production.sqlite3"), "SELECT name FROM items ORDER BY id"));
    }

    @Test
    void aTrailingSlashMeansADirectoryAndAPullIntoOneThatIsNotThereOrIsAFileChangesNothing() throws Exception {
        app = RunningApp.start("alpha", "bravo");
        Fixtures.Result missing = app.cli(client, null, "cp", app.db.toString(), "backups/");
        assertEquals(1, missing.exit(), missing.toString());
        assertEquals("ERROR: backups/ is not a directory (there is none); nothing changed. Create it first (mkdir -p backups/), "
                + "or name a file without the trailing /\n", missing.stderr());
        assertFalse(Files.exists(client.resolve("backups"), LinkOption.NOFOLLOW_LINKS), "a file was made where a directory was meant");

        Path file = Fixtures.itemsDb(client.resolve("older"), "older");
        byte[] before = Files.readAllBytes(file);
        Fixtures.Result onFile = app.cli(client, null, "cp", app.db.toString(), "older/");
        assertEquals(1, onFile.exit(), onFile.toString());
        assertTrue(onFile.stderr().startsWith("ERROR: older/ is not a directory; nothing changed."), onFile.toString());
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of(), Fixtures.leftovers(client));
    }

    @Test
    void pullIntoAMissingDirectoryFailsAndLeavesNothing() throws Exception {
        Fixtures.Result r = pullIntoMissingDirectory();
        Path destination = client.resolve("nodir").resolve("backup.sqlite3");
        assertTrue(errorLine(r).contains("cannot write " + destination), r.toString());
        assertEquals(List.of(), list(client));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
        assertEquals("[\"alpha\"]", app.get("/items").body());
    }

    @Test
    void pullIntoAMissingDirectorySaysTheDirectoryDoesNotExist() throws Exception {
        Fixtures.Result r = pullIntoMissingDirectory();
        Path destination = client.resolve("nodir").resolve("backup.sqlite3");
        String error = errorLine(r);
        assertTrue(error.startsWith("ERROR: cannot write " + destination + ": "), r.toString());
        assertTrue(error.matches("(?i).*(no such directory|does not exist).*"), r.toString());
        assertFalse(error.contains(".hotswap-"), "the message shows an internal temp name\n" + r);
    }

    // ---- push options that must still succeed ----

    @ParameterizedTest
    @ValueSource(strings = {"--quick-check", "--timeout 1000", "--timeout=1000"})
    void pushWithOptionSucceeds(String option) throws Exception {
        app = RunningApp.start("alpha");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "x", "y");
        List<String> args = new java.util.ArrayList<>(List.of("cp"));
        args.addAll(List.of(option.split(" ")));
        args.addAll(List.of("new.sqlite3", app.db.toString()));
        Fixtures.Result r = app.cli(client, null, args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.toString());
        assertEquals("OK\n", r.out());
        assertEquals("[\"x\",\"y\"]", app.get("/items").body());
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    // ---- helpers ----

    /** Starts the app and pulls its database to nodir/backup.sqlite3 in the client dir, where nodir does not exist; exit 1. */
    private Fixtures.Result pullIntoMissingDirectory() throws Exception {
        app = RunningApp.start("alpha");
        Fixtures.Result r = app.cli(client, null, "cp", app.db.toString(), "nodir/backup.sqlite3");
        assertEquals(1, r.exit(), r.toString());
        return r;
    }

    /** Nothing changed: the app's database is {@code before}, byte for byte, it serves its two rows, and no temp file is left. */
    private void assertTheAppStillServes(byte[] before) throws Exception {
        assertArrayEquals(before, Files.readAllBytes(app.db));
        assertEquals("[\"alpha\",\"bravo\"]", app.get("/items").body());
        assertNoLeftoversIn(app.db.getParent());
    }

    /** Ours, once the app is done: it may still be removing its temp file when the client has exited. */
    private static void assertNoLeftoversIn(Path dir) throws Exception {
        for (int i = 0; i < 500 && !Fixtures.leftovers(dir).isEmpty(); i++) {
            Thread.sleep(10);
        }
        assertEquals(List.of(), Fixtures.leftovers(dir));
    }

    /** {@code Main.run} in this JVM, for what fails before any process boundary matters. */
    record InProcess(int exit, String out, String err) {
        static InProcess run(Path cwd, Map<String, String> env, String... args) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            int exit = hotswap.cli.Main.run(new java.io.ByteArrayInputStream(new byte[0]), out,
                    new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8), env, cwd, args);
            return new InProcess(exit, out.toString(java.nio.charset.StandardCharsets.UTF_8),
                    err.toString(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private static void assertNoServer(Fixtures.Result r, Path socket) {
        assertEquals(1, r.exit(), r.toString());
        assertEquals("", r.out());
        // It says that nothing changed, as every error does: the user may have typed a push.
        assertTrue(r.stderr().startsWith("ERROR: no hotswap server at " + socket + "; nothing was sent. Start the app"), r.toString());
    }

    /** The first {@code ERROR: } line on stderr, or "" when there is none. */
    private static String errorLine(Fixtures.Result r) {
        return r.stderr().lines().filter(l -> l.startsWith("ERROR: ")).findFirst().orElse("");
    }

    private static List<String> list(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
