package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client trusts only a server of its own user (DESIGN.md §2 item 7). The server here is a fake
 * one run as another user (uid 65534) that records every byte it receives; the client is the real
 * CLI, run as root, which the fake server must not fool either.
 */
class ClientTrustTest {
    static final int OTHER_UID = 65534;

    /** Binds a socket any user may connect to, says a hotswap hello, and records what it receives until the client hangs up. */
    private static final String RECORDING_SERVER = """
            import os, socket, sys
            path, record = sys.argv[1], sys.argv[2]
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            os.chmod(path, 0o777)
            s.listen(1)
            open(path + ".ready", "w").close()
            c, _ = s.accept()
            c.settimeout(20)
            try:
                c.sendall(b"H\\x00\\x00\\x00\\x04\\x00\\x00\\x00\\x04")
            except OSError:
                pass  # a client that refuses this server may hang up first; what it sent is still read below
            data = b""
            try:
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    data += b
            except OSError:
                pass
            with open(record + ".tmp", "wb") as f:
                f.write(data)
            os.rename(record + ".tmp", record)
            """;

    private Path dir;
    private Process server;

    @BeforeEach
    void setUp() throws Exception {
        Fixtures.assumeRoot("run a fake server as another user");
        Assumptions.assumeTrue(setpriv() != null, "setpriv not found on PATH");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "needs /usr/bin/python3 for the fake server");
        dir = Fixtures.tempDir();
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.destroyForcibly();
        }
        Fixtures.deleteTree(dir);
    }

    @Test
    void aServerOfAnotherUserGetsNotOneByteAndTheClientSaysWhoseItIs() throws Exception {
        Path serverDir = Files.createDirectory(dir.resolve("theirs"));
        Files.setOwner(serverDir, serverDir.getFileSystem().getUserPrincipalLookupService()
                .lookupPrincipalByName(Integer.toString(OTHER_UID)));
        Path script = Files.writeString(dir.resolve("server.py"), RECORDING_SERVER);
        Path socket = serverDir.resolve("hotswap.sock");
        Path record = serverDir.resolve("received");
        server = new ProcessBuilder(asOtherUser(List.of("/usr/bin/python3", script.toString(), socket.toString(), record.toString())))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        awaitFile(serverDir.resolve("hotswap.sock.ready"));

        Path client = Files.createDirectory(dir.resolve("client"));
        Path source = Fixtures.itemsDb(client.resolve("new.sqlite3"), "secret");
        byte[] before = Files.readAllBytes(source);
        Fixtures.Result r = Fixtures.cli(client, Map.of("HOTSWAP_SOCKET", socket.toString()), null,
                "cp", "new.sqlite3", client.resolve("db.sqlite3").toString());

        assertEquals(1, r.exit(), r.toString());
        assertEquals("ERROR: the server at " + socket + " runs as user " + otherUserName() + ", which is not you (root); "
                + "nothing was sent. hotswap talks only to an app of its own user: run it as the app's user, or point "
                + "--socket (or HOTSWAP_SOCKET) at your app's socket\n", r.stderr());
        assertEquals("", r.out());
        awaitFile(record);
        assertEquals(0, Files.size(record), "the other user's server received bytes from the client");
        assertArrayEquals(before, Files.readAllBytes(source));
    }

    // ---- running things as another user ----

    static String setpriv() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path p = Path.of(d, "setpriv");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return Files.isExecutable(Path.of("/usr/bin/setpriv")) ? "/usr/bin/setpriv" : null;
    }

    /** {@code command} run as uid and gid {@link #OTHER_UID} with no supplementary groups. */
    static List<String> asOtherUser(List<String> command) {
        List<String> full = new ArrayList<>(List.of(setpriv(), "--reuid=" + OTHER_UID, "--regid=" + OTHER_UID, "--clear-groups"));
        full.addAll(command);
        return full;
    }

    /** The name uid {@link #OTHER_UID} has here, as the JDK reports it. */
    static String otherUserName() throws IOException {
        for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
            String[] f = line.split(":");
            if (f.length > 2 && f[2].equals(Integer.toString(OTHER_UID))) {
                return f[0];
            }
        }
        return Integer.toString(OTHER_UID);
    }

    private static void awaitFile(Path file) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(file)) {
            assertTrue(System.nanoTime() < deadline, "the fake server never wrote " + file);
            Thread.sleep(10);
        }
    }
}
