package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A crash at an unlucky instant, and the unlucky operator: found by the review of crashes around delta copies and kept databases. */
class CrashReviewTest {
    private Path dir;
    private Path client;
    private Path live;
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        dir = Fixtures.tempDir();
        client = Fixtures.tempDir();
        live = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
    }

    @AfterEach
    void tearDown() {
        Fixtures.closeInReverse(cleanup);
        Fixtures.deleteTree(dir);
        Fixtures.deleteTree(client);
    }

    /**
     * The app dies (OOM killer, a deploy's kill -9) after the rename and before it could say OK: the
     * push has happened. Exit status 1 means "nothing changed unless the message says otherwise", so
     * the message must say that the database may have been replaced, as it does for a remote app.
     */
    @Test
    void anAppThatDiesAfterTheRenameNeverHasItsPushReportedAsIfNothingChanged() throws Exception {
        Path socket = dir.resolve("hs.sock");
        Process app = new ProcessBuilder(Fixtures.java(), "-cp", Path.of(KeptPreviousTest.DiesAfterTheRename.class
                        .getProtectionDomain().getCodeSource().getLocation().toURI()) + java.io.File.pathSeparator + Fixtures.jar()
                        + java.io.File.pathSeparator + Fixtures.sqliteJar(),
                KeptPreviousTest.DiesAfterTheRename.class.getName(), live.toString(), socket.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        cleanup.add(app::destroyForcibly);
        java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(app.getInputStream()));
        assertEquals("ready", out.readLine());

        Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", socket.toString()), null, "cp", "new.sqlite3", live.toString());

        assertEquals(1, r.exit(), r.toString());
        assertEquals(List.of("new"), Fixtures.query(live, "SELECT name FROM items"));
        assertTrue(r.stderr().contains("ERROR: the app closed the connection before the command finished; " + live
                + " holds the old database or the new one, whole: pull it, or read the app's log, to see which"), r.stderr());
    }

    /**
     * An app killed while a push's bytes still arrive leaves them unread in its socket, so the
     * kernel resets the connection rather than closing it: the client's next read fails with
     * "Connection reset" instead of ending. That is the same dead app as a closed connection, and
     * must say so (what happened, that the database holds the old one or the new one, what to do),
     * never a bare "ERROR: Connection reset".
     */
    @Test
    void anAppKilledWhileAPushsBytesArriveIsReportedAsADeadAppNotABareConnectionReset() throws Exception {
        Path source = Fixtures.createDb(client.resolve("big.sqlite3"), "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)",
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000) "
                        + "INSERT INTO items(name) SELECT hex(randomblob(500)) FROM n");
        Path socket = dir.resolve("stand-in.sock");
        java.nio.channels.ServerSocketChannel server = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
        server.bind(java.net.UnixDomainSocketAddress.of(socket));
        cleanup.add(server);
        Thread app = new Thread(() -> {
            try (server; java.nio.channels.SocketChannel ch = server.accept()) {
                hotswap.wire.Frames frames = new hotswap.wire.Frames(ch);
                hotswap.wire.Protocol.readHello(frames);
                hotswap.wire.Protocol.sayHello(frames);
                frames.read(); // the cp request
                frames.writeStrings(hotswap.wire.Channel.CONTROL, List.of("push"));
                frames.read(); // the first of the bytes; the rest stay unread as the app dies
                Thread.sleep(200);
            } catch (Exception e) {
                // the client's to report
            }
        }, "dying-stand-in");
        app.setDaemon(true);
        app.start();

        Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", socket.toString()), null, "cp", source.toString(), live.toString());

        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("ERROR: the app closed the connection before the command finished; " + live
                + " holds the old database or the new one, whole: pull it, or read the app's log, to see which"), r.stderr());
    }

    /**
     * A destination on a file system mounted read-only (a backup disk mounted ro, a read-only bind
     * mount in a container): the refusal says so, whole or delta, and never blames the file's owner
     * or mode, which are not the cause and which no chmod can change.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"--no-delta", "--delta"})
    void aPullOntoAFileOnAReadOnlyFileSystemSaysSoAndLeavesItAsItWas(String delta) throws Exception {
        Fixtures.assumeRoot("mount a read-only bind mount");
        Path backups = java.nio.file.Files.createDirectory(client.resolve("backups"));
        Path backup = Fixtures.itemsDb(backups.resolve("backup.sqlite3"), "kept");
        byte[] before = java.nio.file.Files.readAllBytes(backup);
        Fixtures.mountReadOnly(backups);
        cleanup.add(() -> Fixtures.unmount(backups));
        try (Hotswap h = Hotswap.builder().socket(dir.resolve("hs.sock")).database(live).build()) {
            h.start();

            Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", h.socket().toString()), null,
                    "cp", live.toString(), "backups/backup.sqlite3", delta);

            assertEquals(1, r.exit(), r.toString());
            assertTrue(r.stderr().startsWith("ERROR: cannot pull to " + backup + ": its file system is mounted read-only, or the file "
                    + "is immutable (chattr +i), since its mode lets this user write it; nothing changed. Pull to a file system you "
                    + "can write, or remount it read-write"), r.toString());
            assertArrayEquals(before, java.nio.file.Files.readAllBytes(backup));
        }
    }

    /**
     * A writable destination in a directory that takes no new name (immutable, chattr +i): the copy a
     * delta pull patches cannot be made beside it, and the refusal says so once, not "nothing changed"
     * twice under two "cannot write" prefixes.
     */
    @Test
    void aDeltaPullWhoseCopyCannotBeMadeBesideItsDestinationSaysSoOnce() throws Exception {
        Fixtures.assumeRoot("make a directory immutable");
        Path backups = java.nio.file.Files.createDirectory(client.resolve("backups"));
        Path backup = Fixtures.itemsDb(backups.resolve("backup.sqlite3"), "kept");
        Fixtures.runOrSkip("chattr +i", List.of("chattr", "+i", backups.toString()));
        cleanup.add(() -> new ProcessBuilder("chattr", "-i", backups.toString()).start().waitFor());
        try (Hotswap h = Hotswap.builder().socket(dir.resolve("hs.sock")).database(live).build()) {
            h.start();

            Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", h.socket().toString()), null,
                    "cp", live.toString(), "backups/backup.sqlite3", "--delta");

            assertEquals(1, r.exit(), r.toString());
            String error = r.stderr().lines().filter(l -> l.startsWith("ERROR: ")).findFirst().orElse("");
            assertTrue(error.startsWith("ERROR: cannot write " + backup + ": "), r.toString());
            assertTrue(error.endsWith("; nothing changed. Pull to a directory you can write"), r.toString());
            assertEquals(1, error.split("nothing changed", -1).length - 1, r.toString());
        }
    }
}
