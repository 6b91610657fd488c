package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hotswap.demo.DemoApp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The unlucky operator: the CLI run with its standard streams closed or full, odd bytes in its
 * arguments, odd environment variables. Whatever happens, what the client says must be what
 * happened to the database.
 */
class OddEnvironmentTest extends AppAndClientTest {
    /**
     * A push whose {@code OK} cannot be written ({@code >&-}, or a log on a full disk: {@code >> /dev/full})
     * has still replaced the database: the client must not report a failure that says nothing changed.
     */
    @ParameterizedTest(name = "stdout {0}")
    @ValueSource(strings = {">&-", ">/dev/full"})
    void aPushWhoseOkCannotBeWrittenSaysTheDatabaseWasReplaced(String redirect) throws Exception {
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "fresh");
        Fixtures.Result r = Fixtures.run(client, app.env(), null, List.of("sh", "-c",
                "exec '" + Fixtures.java() + "' -jar '" + Fixtures.jar() + "' cp new.sqlite3 '" + app.db + "' " + redirect));
        assertEquals("[\"fresh\"]", app.get("/items").body(), "the push went through: " + r);
        assertEquals(1, r.exit(), r.toString()); // standard output failed, as with any tool
        String error = r.stderr().lines().filter(l -> l.startsWith("ERROR: ")).findFirst().orElse("");
        assertTrue(error.contains("the push succeeded: " + app.db + " now holds new.sqlite3")
                && error.contains("standard output"), "the error must say that the database was replaced: " + r);
        assertFalse(error.contains("nothing changed"), r.toString());
    }

    /**
     * Java decodes its arguments in the locale's character set: a byte that set cannot decode
     * becomes U+FFFD, so {@code b\377.sqlite3} under a UTF-8 locale named the file
     * {@code b\357\277\275.sqlite3} (another name, perhaps another file of the user's) and said OK. Such
     * an argument is refused before anything happens, saying how to get round it.
     */
    @ParameterizedTest(name = "LC_ALL={0}, name {1}")
    @CsvSource({"C.UTF-8, b\\377.sqlite3", "C, b\\303\\251.sqlite3"})
    void anArgumentWhoseBytesTheLocaleCannotDecodeIsRefusedAndNoFileIsMade(String locale, String printfName) throws Exception {
        Fixtures.Result r = Fixtures.run(client, Map.of("HOTSWAP_SOCKET", app.socket.toString(), "LC_ALL", locale), null,
                List.of("sh", "-c", "exec '" + Fixtures.java() + "' -jar '" + Fixtures.jar() + "' cp '" + app.db
                        + "' \"$(printf '" + printfName + "')\""));
        assertEquals(2, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("ERROR: ") && r.stderr().contains("cannot decode") && r.stderr().contains("nothing changed"),
                r.toString());
        try (Stream<Path> files = Files.list(client)) {
            assertEquals(List.of(), files.toList(), "no file may be made: " + r);
        }
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    /**
     * A backup made read-only ({@code chmod a-w}) is the operator's "do not overwrite": cp and
     * sqlite3's .backup refuse it, and so does a pull, whole or delta, leaving it as it was.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"--no-delta", "--delta"})
    void aPullOntoAReadOnlyFileIsRefusedAndLeavesItAsItWas(String delta) throws Exception {
        Path backup = Fixtures.itemsDb(client.resolve("backup.sqlite3"), "kept");
        Files.setPosixFilePermissions(backup, PosixFilePermissions.fromString("r--r--r--"));
        byte[] before = Files.readAllBytes(backup);
        Object inode = Files.getAttribute(backup, "unix:ino");
        Fixtures.Result r = app.cli(client, null, "cp", app.db.toString(), "backup.sqlite3", delta);
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("ERROR: " + backup.toRealPath() + " is read-only (mode 0444)") && r.stderr().contains("nothing changed"), r.toString());
        assertEquals(inode, Files.getAttribute(backup, "unix:ino"));
        assertArrayEquals(before, Files.readAllBytes(backup));
        assertEquals(List.of(), Fixtures.leftovers(client));

        Files.setPosixFilePermissions(backup, PosixFilePermissions.fromString("rw-r--r--"));
        Fixtures.Result again = app.cli(client, null, "cp", app.db.toString(), "backup.sqlite3", delta);
        assertEquals(0, again.exit(), again.toString());
        assertEquals(List.of("alpha", "bravo"), Fixtures.query(backup, "SELECT name FROM items ORDER BY id"));
    }

    /**
     * A read-only live database (one the app only reads): an app run as root replaces it, and it stays
     * read-only; any other app may not write it, so it cannot checkpoint its WAL first, and refuses,
     * saying what to do, with nothing changed.
     */
    @Test
    void aPushOntoAReadOnlyLiveDatabaseReplacesItWhereTheAppMayWriteItAndElseSaysWhatToDo() throws Exception {
        Files.setPosixFilePermissions(app.db, PosixFilePermissions.fromString("r--r--r--"));
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "fresh");
        byte[] before = Files.readAllBytes(app.db);
        Fixtures.Result r = app.cli(client, null, "cp", "new.sqlite3", app.db.toString(), "--delta");
        if ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0) {
            assertEquals(0, r.exit(), r.toString());
            assertEquals("[\"fresh\"]", app.get("/items").body());
        } else {
            assertEquals(1, r.exit(), r.toString());
            assertTrue(r.stderr().contains("; nothing changed. The app's user may not write " + app.db + ", and a push first "
                    + "copies the transactions in its -wal into it: make it writable for that user (chmod u+w), then push again"),
                    r.toString());
            assertArrayEquals(before, Files.readAllBytes(app.db));
        }
        assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(app.db)));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    /**
     * A read-only live database in rollback-journal mode has no WAL to checkpoint: the push replaces
     * it for any user, and it stays read-only (the new file is synced through a descriptor that only
     * reads, since it has the live file's mode by then).
     */
    @Test
    void aPushOntoAReadOnlyRollbackJournalDatabaseReplacesItAndItStaysReadOnly() throws Exception {
        Path dir = Files.createDirectories(client.resolve("ro"));
        Path db = Fixtures.createDb(dir.resolve("ro.sqlite3"), "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)",
                "INSERT INTO items(name) VALUES ('old')");
        Files.setPosixFilePermissions(db, PosixFilePermissions.fromString("r--r--r--"));
        Fixtures.createDb(client.resolve("ro-new.sqlite3"), "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)",
                "INSERT INTO items(name) VALUES ('fresh')");
        Path socket = dir.resolve("s.sock");
        try (DemoApp ro = DemoApp.start(0, db, socket)) {
            Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", socket.toString()), null,
                    "cp", "ro-new.sqlite3", db.toString());
            assertEquals(0, r.exit(), r.toString());
            assertEquals(List.of("fresh"), Fixtures.query(db, "SELECT name FROM items"));
        }
        assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(db)));
    }

    /**
     * {@code export HOTSWAP_SOCKET=} (set, but empty) means the default, as an empty variable does
     * for the shell's {@code ${VAR:-default}}: not this directory, taken for a socket.
     */
    @Test
    void anEmptyHotswapSocketMeansTheDefaultSocket() throws Exception {
        Path db = Fixtures.itemsDb(Files.createDirectories(client.resolve("db")).resolve("here.sqlite3"), "here");
        try (DemoApp here = DemoApp.start(0, db, client.resolve("tmp/sockets/hotswap.sock"))) {
            Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", ""), null, "cp", "db/here.sqlite3", "b.sqlite3");
            assertEquals(0, r.exit(), r.toString());
            assertEquals(List.of("here"), Fixtures.query(client.resolve("b.sqlite3"), "SELECT name FROM items"));
        }
    }

    /**
     * A file name may have 255 bytes: a pull to one of 240 (200 of them in two-byte letters) lands,
     * whole or delta, though the temp name beside it cannot hold the whole name.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"--no-delta", "--delta"})
    void aPullToAFileNameNearTheLimitOfItsFileSystemLands(String delta) throws Exception {
        List<String> names = "UTF-8".equals(System.getProperty("sun.jnu.encoding")) // else é cannot be passed on
                ? List.of("b".repeat(240), "é".repeat(100) + ".sqlite3" + "x".repeat(32)) : List.of("b".repeat(240));
        for (String name : names) {
            for (int time = 0; time < 2; time++) { // the second pull finds the file there: --delta patches a copy of it
                Fixtures.Result r = app.cli(client, null, "cp", app.db.toString(), name, delta);
                assertEquals(0, r.exit(), r.toString());
            }
            assertEquals(List.of("alpha", "bravo"), Fixtures.query(client.resolve(name), "SELECT name FROM items ORDER BY id"));
            assertEquals(List.of(), Fixtures.leftovers(client));
        }
    }

    /**
     * {@code hotswap cp - DB <&-}: with standard input closed, the JVM takes descriptor 0 for a file
     * of its own (its module image), which the push read and the app refused as "not a SQLite
     * database ... check that you are pushing the right file". The client says what is wrong.
     */
    @Test
    void aPushFromAClosedStandardInputSaysSoAndChangesNothing() throws Exception {
        byte[] before = Files.readAllBytes(app.db);
        Fixtures.Result r = Fixtures.run(client, app.env(), null, List.of("sh", "-c",
                "exec '" + Fixtures.java() + "' -jar '" + Fixtures.jar() + "' cp - '" + app.db + "' <&-"));
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("ERROR: standard input is closed") && r.stderr().contains("nothing changed"), r.toString());
        assertArrayEquals(before, Files.readAllBytes(app.db));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    /**
     * The README: an error says what happened, whether anything changed, and what to do. These
     * refusals of a mistyped command said only what happened.
     */
    @ParameterizedTest(name = "cp {0} {1}")
    @CsvSource({"missing/new.sqlite3, DB", "adir, DB", "DB, nodir/backup.sqlite3", "DB, afile/backup.sqlite3", "DB, DB"})
    void aMistypedCopyIsRefusedSayingThatNothingChanged(String source, String destination) throws Exception {
        Files.createDirectories(client.resolve("adir"));
        Files.writeString(client.resolve("afile"), "x");
        byte[] before = Files.readAllBytes(app.db);
        Fixtures.Result r = app.cli(client, null, "cp", source.replace("DB", app.db.toString()), destination.replace("DB", app.db.toString()));
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("ERROR: ") && r.stderr().contains("; nothing changed. "), r.toString());
        assertArrayEquals(before, Files.readAllBytes(app.db));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    /**
     * {@code hotswap cp DB - > DB}, a slip of the keyboard: the shell empties the live database
     * before hotswap starts, and the pull wrote a snapshot of what was left into it and said nothing,
     * exit 0. With {@code >>} it wrote into the live file (or its {@code -wal}) while the app used it.
     * The same with the database named as the app names it (no file of that name here), whose path
     * the client learns only from the app's answer. A pull whose standard output is the database it
     * reads, or one of its journal files, writes nothing, and says at once what the redirection did.
     */
    @ParameterizedTest(name = "by {0}, >> db{1}")
    @CsvSource({"path, ''", "path, -wal", "name, ''", "name, -wal"})
    void aPullToStandardOutputRedirectedIntoTheDatabaseItReadsWritesNothingAndSaysSo(String by, String suffix) throws Exception {
        app.post("/items", "name=charlie"); // the -wal holds a transaction
        Path target = Path.of(app.db + suffix);
        long before = Files.size(target);
        String source = by.equals("path") ? app.db.toString() : app.db.getFileName().toString();
        assertFalse(by.equals("name") && Files.exists(client.resolve(source)));
        Fixtures.Result r = Fixtures.run(client, app.env(), null, List.of("sh", "-c",
                "exec '" + Fixtures.java() + "' -jar '" + Fixtures.jar() + "' cp '" + source + "' - >> '" + target + "'"));
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("ERROR: standard output is " + target.toRealPath()) && r.stderr().contains("nothing was written"),
                r.toString());
        assertEquals(before, Files.size(target), "the pull wrote into " + target);
        // >> empties nothing: told that a > did and to push a backup "if it was lost", the operator may push an old one.
        assertTrue(r.stderr().contains("with >> the shell left it as it was") && !r.stderr().contains("push a backup"), r.toString());
        assertEquals("[\"alpha\",\"bravo\",\"charlie\"]", app.get("/items").body());
        long deadline = System.nanoTime() + 5_000_000_000L; // the app frees a snapshot it offered once it sees the hang-up
        while (!Fixtures.leftovers(app.db.getParent()).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    /**
     * Java takes a socket address of at most 106 bytes, one less than Linux: in a directory where the
     * socket's absolute path has exactly 107, the client tried it, failed with "Unix domain path too
     * long", and never tried the relative path that fits.
     */
    @Test
    void aSocketWhoseAbsolutePathHasExactly107BytesIsReachedByItsRelativePath() throws Exception {
        String socketTail = "/tmp/sockets/hotswap.sock";
        Path dir = client.resolve("d".repeat(107 - socketTail.length() - client.toString().length() - 1));
        Path socket = Path.of(dir + socketTail);
        assertEquals(107, socket.toString().length());
        Fixtures.itemsDb(Files.createDirectories(dir.resolve("db")).resolve("production.sqlite3"), "here");
        // The demo app in that directory binds its default socket by the relative path, which fits.
        ProcessBuilder pb = new ProcessBuilder(Fixtures.java(), "-cp", Fixtures.jar() + ":" + Fixtures.sqliteJar(),
                "hotswap.demo.DemoApp").directory(dir.toFile()).redirectErrorStream(true).redirectOutput(client.resolve("app.log").toFile());
        pb.environment().keySet().removeAll(List.of("HOTSWAP_DB", "HOTSWAP_SOCKET"));
        pb.environment().put("PORT", "0");
        Process demo = pb.start();
        try {
            for (int i = 0; i < 3000 && !Files.exists(socket) && demo.isAlive(); i++) {
                Thread.sleep(10);
            }
            assertTrue(Files.exists(socket), "the app did not start:\n" + Files.readString(client.resolve("app.log")));
            Fixtures.Result byDefault = Fixtures.cli(dir, Map.of(), null, "cp", "db/production.sqlite3", "b.sqlite3");
            assertEquals(0, byDefault.exit(), byDefault.toString());
            Fixtures.Result byEnvironment = Fixtures.cli(dir, Map.of("HOTSWAP_SOCKET", socket.toString()), null, "status");
            assertEquals(0, byEnvironment.exit(), byEnvironment.toString());
        } finally {
            demo.destroy();
            demo.waitFor();
        }
    }

    /**
     * A file in the user's own directory that another user made (root's cron, {@code -rw-r--r--}) is
     * not writable to this user, so a pull over it is refused, as cp refuses; the refusal called it
     * "read-only (mode 0644)" and said to {@code chmod u+w} it, which only its owner may do. It names
     * the owner, and leaves the file as it was.
     */
    @Test
    void aPullOverAFileOfAnotherUserSaysWhoOwnsItAndNeverAdvisesAChmodThatFails() throws Exception {
        Fixtures.assumeRoot("run an app and its client as another user");
        Assumptions.assumeTrue(ClientTrustTest.setpriv() != null, "setpriv not found on PATH");
        Path dir = Files.createDirectories(client.resolve("other"));
        Files.setPosixFilePermissions(client, PosixFilePermissions.fromString("rwxr-xr-x"));
        // Copies of the jars the other user can surely read, whatever the modes of the build tree (a clone in mktemp -d).
        Path jar = Files.copy(Fixtures.jar(), dir.resolve("hotswap.jar"));
        Path sqliteJar = Files.copy(Fixtures.sqliteJar(), dir.resolve("sqlite-jdbc.jar"));
        Fixtures.itemsDb(Files.createDirectories(dir.resolve("db")).resolve("production.sqlite3"), "live");
        Path backup = Fixtures.itemsDb(Files.createDirectories(dir.resolve("backups")).resolve("prod.sqlite3"), "root's");
        Files.setPosixFilePermissions(backup, PosixFilePermissions.fromString("rw-r--r--"));
        List<String> chown = List.of("chown", "-R", ClientTrustTest.OTHER_UID + ":" + ClientTrustTest.OTHER_UID,
                dir.resolve("db").toString(), dir.resolve("backups").toString(), dir.toString());
        assertEquals(0, new ProcessBuilder(chown).inheritIO().start().waitFor());
        assertEquals(0, new ProcessBuilder("chown", "0:0", backup.toString()).inheritIO().start().waitFor()); // root's file in the user's directory
        for (Path p : List.of(jar, sqliteJar)) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
        }
        byte[] before = Files.readAllBytes(backup);
        ProcessBuilder pb = new ProcessBuilder(ClientTrustTest.asOtherUser(List.of(Fixtures.java(), "-cp", jar + ":" + sqliteJar,
                "hotswap.demo.DemoApp"))).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(client.resolve("app.log").toFile());
        pb.environment().keySet().removeAll(List.of("HOTSWAP_DB", "HOTSWAP_SOCKET"));
        pb.environment().put("PORT", "0");
        Process demo = pb.start();
        try {
            Path socket = dir.resolve("tmp/sockets/hotswap.sock");
            for (int i = 0; i < 3000 && !Files.exists(socket) && demo.isAlive(); i++) {
                Thread.sleep(10);
            }
            assertTrue(Files.exists(socket), "the app did not start:\n" + Files.readString(client.resolve("app.log")));
            Fixtures.Result r = Fixtures.run(dir, Map.of(), null, ClientTrustTest.asOtherUser(List.of(Fixtures.java(), "-jar",
                    jar.toString(), "cp", "db/production.sqlite3", "backups/prod.sqlite3")));
            assertEquals(1, r.exit(), r.toString());
            assertTrue(r.stderr().startsWith("ERROR: " + backup.toRealPath()) && r.stderr().contains("nothing changed")
                    && r.stderr().contains("root"), r.toString());
            assertFalse(r.stderr().contains("chmod") || r.stderr().contains("read-only"), r.toString());
            assertArrayEquals(before, Files.readAllBytes(backup));
            assertEquals(List.of(), Fixtures.leftovers(dir.resolve("backups")));
        } finally {
            demo.destroy();
            demo.waitFor();
        }
    }

    /**
     * A path through a directory this user may not search is not "no such file": told so, the
     * operator looks for a typo, and for a destination is told to create a directory that exists.
     */
    @Test
    void aPathThroughADirectoryThisUserMayNotSearchSaysPermissionDeniedNotNoSuchFile() throws Exception {
        Fixtures.assumeRoot("run the client as another user");
        Assumptions.assumeTrue(ClientTrustTest.setpriv() != null, "setpriv not found on PATH");
        Files.setPosixFilePermissions(client, PosixFilePermissions.fromString("rwxr-xr-x"));
        // A copy of the jar the other user can surely read, whatever the modes of the build tree (a clone in mktemp -d).
        Path jar = Files.copy(Fixtures.jar(), client.resolve("hotswap.jar"));
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        Path locked = Files.createDirectories(client.resolve("locked/sub"));
        Fixtures.itemsDb(locked.resolve("new.sqlite3"), "x");
        Files.setPosixFilePermissions(locked.getParent(), PosixFilePermissions.fromString("rwx------"));
        for (List<String> args : List.of(List.of("locked/sub/new.sqlite3", app.db.toString()),
                List.of(app.db.toString(), "locked/sub/backup.sqlite3"))) {
            List<String> command = new ArrayList<>(List.of(Fixtures.java(), "-jar", jar.toString(), "cp"));
            command.addAll(args);
            Fixtures.Result r = Fixtures.run(client, app.env(), null, ClientTrustTest.asOtherUser(command));
            assertEquals(1, r.exit(), r.toString());
            assertTrue(r.stderr().startsWith("ERROR: ") && r.stderr().contains("permission denied") && r.stderr().contains("nothing changed"),
                    r.toString());
            assertFalse(r.stderr().contains("no such file") || r.stderr().contains("does not exist"), r.toString());
        }
    }

    /**
     * A pull to another name (a hard link) of the live database it reads was refused as "open in
     * another process (pid N java) ... Stop that process first": that process is the app, and the
     * advice stops production. The refusal names the two for what they are.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"--no-delta", "--delta"})
    void aPullToAHardLinkOfTheLiveDatabaseSaysSoAndNeverAdvisesStoppingTheApp(String delta) throws Exception {
        Path link = Files.createLink(client.resolve("link.sqlite3"), app.db);
        byte[] before = Files.readAllBytes(app.db);
        Fixtures.Result r = app.cli(client, null, "cp", app.db.toString(), "link.sqlite3", delta);
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("ERROR: " + app.db.toRealPath() + " and " + link + " are the same file")
                && r.stderr().contains("nothing changed"), r.toString());
        assertFalse(r.stderr().contains("Stop that process"), r.toString());
        assertTrue(Files.isSameFile(link, app.db));
        assertArrayEquals(before, Files.readAllBytes(app.db));
        assertEquals("[\"alpha\",\"bravo\"]", app.get("/items").body());
        assertEquals(List.of(), Fixtures.leftovers(client));
    }

    /**
     * Pushing the live database onto itself through another of its names (a hard link, as
     * {@code cp -al} or rsnapshot leave; a bind mount) sent its main file alone, without the
     * transactions its {@code -wal} held, and swapped that in: committed rows were lost, and the
     * client said OK. The push is refused, from a file or redirected from one, with nothing changed.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"file", "stdin"})
    void pushingTheLiveDatabaseOntoItselfThroughAHardLinkIsRefusedAndNoCommittedRowIsLost(String how) throws Exception {
        Path link = hardLinkOfTheLiveDatabaseWithARowInItsWal();
        Fixtures.Result r = how.equals("file") ? app.cli(client, null, "cp", "snapshot.sqlite3", app.db.toString())
                : Fixtures.run(client, app.env(), null, List.of("sh", "-c", "exec '" + Fixtures.java() + "' -jar '" + Fixtures.jar()
                        + "' cp - '" + app.db + "' < snapshot.sqlite3"));
        assertEquals("[\"alpha\",\"bravo\",\"charlie\"]", app.get("/items").body(), "a committed row was lost: " + r);
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("ERROR: " + link + " and " + app.db.toRealPath() + " are the same file")
                && r.stderr().contains("nothing changed"), r.toString());
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    /**
     * The same by name, from standard input redirected from the hard link ({@code hotswap cp -
     * production.sqlite3 < snapshot.sqlite3}): the app sees only {@code -} and the client no path for
     * the name, so neither saw one file, and the rows in the {@code -wal} were lost with an OK. The
     * client refuses a source another process (here the app) has open for writing. Before, the app
     * refused the swap only because the client's own stdin held the live file open, and advised
     * {@code --force}, which then lost the rows.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"--timeout=10000", "--force"})
    void aPushByNameFromStdinRedirectedFromAHardLinkOfTheLiveDatabaseIsRefusedAndNoCommittedRowIsLost(String option) throws Exception {
        Path link = hardLinkOfTheLiveDatabaseWithARowInItsWal();
        byte[] before = Files.readAllBytes(app.db);
        Fixtures.Result r = Fixtures.run(client, app.env(), null, List.of("sh", "-c", "exec '" + Fixtures.java() + "' -jar '"
                + Fixtures.jar() + "' cp " + option + " - " + app.db.getFileName() + " < snapshot.sqlite3"));
        assertEquals("[\"alpha\",\"bravo\",\"charlie\"]", app.get("/items").body(), "a committed row was lost: " + r);
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("ERROR: " + link.toRealPath() + " is open for writing in another process (pid "
                + ProcessHandle.current().pid() + " java)") && r.stderr().contains("nothing was sent and nothing changed"), r.toString());
        assertArrayEquals(before, Files.readAllBytes(app.db));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    /**
     * The same with the link removed once the shell has opened it ({@code < snapshot.sqlite3}, then
     * {@code rm}, as a script that cleans up its temp link does): standard input is still the live
     * database's file, but has no name to look up. The client looked by name only, found none, let
     * the push through, and the row in the {@code -wal} was lost behind an OK.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"--timeout=10000", "--force"})
    void aPushFromStdinRedirectedFromARemovedHardLinkOfTheLiveDatabaseIsRefusedAndNoCommittedRowIsLost(String option) throws Exception {
        hardLinkOfTheLiveDatabaseWithARowInItsWal();
        byte[] before = Files.readAllBytes(app.db);
        Fixtures.Result r = Fixtures.run(client, app.env(), null, List.of("sh", "-c", "exec 3< snapshot.sqlite3; rm snapshot.sqlite3; "
                + "exec '" + Fixtures.java() + "' -jar '" + Fixtures.jar() + "' cp " + option + " - " + app.db.getFileName() + " <&3 3<&-"));
        assertEquals("[\"alpha\",\"bravo\",\"charlie\"]", app.get("/items").body(), "a committed row was lost: " + r);
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("ERROR: standard input (a file removed since it was opened) is open for writing in another "
                + "process (pid " + ProcessHandle.current().pid() + " java)") && r.stderr().contains("nothing was sent and nothing changed"),
                r.toString());
        assertArrayEquals(before, Files.readAllBytes(app.db));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    /** {@code snapshot.sqlite3}, another name of the live database, whose -wal holds a committed row (charlie). */
    private Path hardLinkOfTheLiveDatabaseWithARowInItsWal() throws Exception {
        app.post("/items", "name=charlie"); // held in the -wal: the demo keeps a connection open, so nothing checkpoints it
        assertTrue(Files.size(Path.of(app.db + "-wal")) > 0);
        return Files.createLink(client.resolve("snapshot.sqlite3"), app.db);
    }

    /**
     * The same with the live database named as the app names it ({@code hotswap cp snapshot.sqlite3
     * production.sqlite3}, no file of that name here): the client, which learns no path for a name,
     * let the push through, the rows in the {@code -wal} were lost, and it said OK; a pull by name
     * onto a hard link of it advised stopping the app. Both are refused as by path, nothing changed.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"push", "pull"})
    void aCopyByNameBetweenTheLiveDatabaseAndAHardLinkOfItIsRefusedAndNoCommittedRowIsLost(String how) throws Exception {
        Path link = hardLinkOfTheLiveDatabaseWithARowInItsWal();
        String name = app.db.getFileName().toString();
        Fixtures.Result r = how.equals("push") ? app.cli(client, null, "cp", "snapshot.sqlite3", name)
                : app.cli(client, null, "cp", name, "snapshot.sqlite3");
        assertEquals("[\"alpha\",\"bravo\",\"charlie\"]", app.get("/items").body(), "a committed row was lost: " + r);
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("are the same file") && r.stderr().contains("nothing changed"), r.toString());
        assertFalse(r.stderr().contains("Stop that process"), r.toString());
        assertTrue(Files.isSameFile(link, app.db));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
        assertEquals(List.of(), Fixtures.leftovers(client));
    }
}
