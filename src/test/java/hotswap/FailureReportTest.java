package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hotswap.wire.Channel;
import hotswap.wire.CopyRequest;
import hotswap.wire.Frames;
import hotswap.wire.Protocol;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every failure reaches the client as an {@code ERROR:} line that says what failed and why, even
 * one nobody anticipated: the managed database's directory turns read-only, vanishes, or becomes a
 * file while the app runs.
 */
class FailureReportTest {
    private Path base;
    private Path dbDir;
    private Path live;
    private Path client;
    private Hotswap hotswap;
    private boolean mounted;

    @BeforeEach
    void start() throws Exception {
        base = Fixtures.tempDir();
        client = Fixtures.tempDir();
        dbDir = Files.createDirectory(base.resolve("db"));
        live = Fixtures.itemsDb(dbDir.resolve("live.sqlite3"), "old");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        hotswap = Hotswap.builder().socket(base.resolve("hs.sock")).database(live).build();
        hotswap.start();
    }

    @AfterEach
    void stop() throws Exception {
        hotswap.close();
        if (mounted) {
            new ProcessBuilder("umount", "-l", dbDir.toString()).inheritIO().start().waitFor();
        }
        Fixtures.deleteTree(base);
        Fixtures.deleteTree(client);
    }

    private Fixtures.Result cli(String... args) throws Exception {
        return Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", hotswap.socket().toString()), null, args);
    }

    private static void assertReported(Fixtures.Result r, String... expected) {
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().contains("ERROR: "), r.toString());
        for (String e : expected) {
            assertTrue(r.stderr().contains(e), "expected <" + e + "> in:\n" + r);
        }
        assertFalse(r.stderr().contains("closed the connection"), r.toString());
        assertFalse(r.stderr().contains("null"), r.toString());
        assertFalse(r.stderr().contains("\tat "), "no stack trace: " + r);
    }

    @Test
    void aReadOnlyDatabaseDirectoryIsReportedToPushAndPull() throws Exception {
        Fixtures.mountReadOnly(dbDir);
        mounted = true;
        byte[] before = Files.readAllBytes(live);

        assertReported(cli("cp", "new.sqlite3", live.toString()),
                "ERROR: push to " + live + " failed: " + dbDir + "/.live.sqlite3.hotswap-",
                ": Read-only file system; nothing changed. Check that " + dbDir + " is a directory the app can write");
        assertReported(cli("cp", live.toString(), "pulled.sqlite3"),
                "ERROR: pull of " + live + " failed: " + dbDir + "/.live.sqlite3.hotswap-", ": Read-only file system");
        assertFalse(Files.exists(client.resolve("pulled.sqlite3")));
        assertArrayEquals(before, Files.readAllBytes(live), "the live database changed");
    }

    /** Sends a cp request with raw frames (the real client refuses a missing local path before asking) and returns the stderr text. */
    private String rawCp(String source, String destination) throws Exception {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(hotswap.socket()))) {
            Frames frames = new Frames(ch);
            Protocol.sayHello(frames);
            frames.writeStrings(Channel.CONTROL, new CopyRequest(source, destination, CopyRequest.Integrity.FULL, true, 0, -1,
                    false, false).encode());
            StringBuilder stderr = new StringBuilder();
            for (Frames.Frame f; (f = frames.read()) != null; ) {
                if (f.channel() == Channel.STDERR) {
                    stderr.append(f.text());
                } else if (f.channel() == Channel.EXIT) {
                    assertEquals(1, Protocol.exitStatus(f), stderr.toString());
                    return stderr.toString();
                }
            }
            throw new AssertionError("the server closed the connection without an exit status; stderr: " + stderr);
        }
    }

    private static void assertReported(String stderr, String expected) {
        assertTrue(stderr.contains(expected), "expected <" + expected + "> in:\n" + stderr);
        assertFalse(stderr.contains("null"), stderr);
    }

    @Test
    void aRemovedDatabaseDirectoryIsReportedToPushAndPull() throws Exception {
        Fixtures.deleteTree(dbDir);
        String push = rawCp("-", live.toString());
        assertReported(push, "ERROR: push to " + live + " failed: " + dbDir + ": no such file or directory; nothing changed. "
                + "Check that " + dbDir + " is a directory the app can write");
        assertReported(rawCp(live.toString(), "-"),
                "ERROR: pull of " + live + " failed: its directory " + dbDir + " does not exist; nothing was copied");
    }

    @Test
    void aDatabaseDirectoryReplacedByAFileIsReportedToPushAndPull() throws Exception {
        Fixtures.deleteTree(dbDir);
        Files.writeString(dbDir, "not a directory");
        String push = rawCp("-", live.toString());
        assertReported(push, "ERROR: push to " + live + " failed: " + dbDir + "/.live.sqlite3.hotswap-");
        assertReported(push, ": Not a directory; nothing changed");
        assertReported(rawCp(live.toString(), "-"),
                "ERROR: pull of " + live + " failed: its directory " + dbDir + " is not a directory; nothing was copied");
        assertEquals("not a directory", Files.readString(dbDir));
    }
}
