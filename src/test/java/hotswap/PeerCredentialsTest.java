package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Invariant 6: only the app's user gets in. Root ignores file modes, so the proof is a process
 * running as another user (uid 65534) that can reach the socket and is still refused by the
 * server's SO_PEERCRED check. The real CLI refuses a server of another user itself, before it sends
 * anything (ClientTrustTest), so the server's own check is proven with a bare client that connects
 * regardless.
 */
class PeerCredentialsTest {
    private static final int OTHER_UID = 65534;

    Path dir;
    Path db;
    Path socket;
    Path jar;
    Hotswap hotswap;
    final LogCapture log = new LogCapture("hotswap");

    @BeforeEach
    void setUp() throws Exception {
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        if (uid != 0) {
            System.out.println("PeerCredentialsTest skipped: needs root to run a client as uid " + OTHER_UID + " (running as uid " + uid + ")");
        }
        Assumptions.assumeTrue(uid == 0, "needs root to run a client as another user (running as uid " + uid + ")");
        String setpriv = setpriv();
        if (setpriv == null) {
            System.out.println("PeerCredentialsTest skipped: setpriv not found on PATH");
        }
        Assumptions.assumeTrue(setpriv != null, "setpriv not found on PATH");

        dir = Fixtures.tempDir();
        db = Fixtures.itemsDb(dir.resolve("live.sqlite3"), "alpha", "bravo");
        // A copy of the jar the other user can surely read, whatever the modes of the build tree.
        jar = dir.resolve("hotswap.jar");
        Files.copy(Fixtures.jar(), jar, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(db, PosixFilePermissions.fromString("rw-r--r--"));
        socket = dir.resolve("sockets").resolve("hs.sock"); // the server creates this directory
    }

    @AfterEach
    void tearDown() {
        if (hotswap != null) {
            hotswap.close();
        }
        log.close();
        Fixtures.deleteTree(dir);
    }

    private static String setpriv() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path p = Path.of(d, "setpriv");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        for (String p : List.of("/usr/bin/setpriv", "/bin/setpriv")) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        return null;
    }

    /** The name the kernel's uid 65534 has here, as the server will report it. */
    private static String otherUserName() throws IOException {
        for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
            String[] f = line.split(":");
            if (f.length > 2 && f[2].equals(Integer.toString(OTHER_UID))) {
                return f[0];
            }
        }
        return Integer.toString(OTHER_UID);
    }

    private Fixtures.Result asOtherUser(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(setpriv(), "--reuid=" + OTHER_UID, "--regid=" + OTHER_UID, "--clear-groups"));
        command.add(Fixtures.java());
        command.addAll(List.of(args));
        return Fixtures.run(dir, Map.of(), null, command);
    }

    private void startServer() throws IOException {
        hotswap = Hotswap.builder().database(db).socket(socket).build();
        hotswap.start();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket, LinkOption.NOFOLLOW_LINKS)),
                "the socket file must be created owner-only");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())),
                "the socket directory the server creates must be owner-only");
    }

    /** Lets the other user reach the socket, so that only the server's uid check stands in its way. */
    private void openUpModes() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(socket.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        Fixtures.Result java = asOtherUser("-version");
        if (java.exit() != 0) {
            System.out.println("PeerCredentialsTest skipped: java cannot run as uid " + OTHER_UID + ": " + java);
        }
        Assumptions.assumeTrue(java.exit() == 0, "java cannot run as uid " + OTHER_UID + ": " + java);
    }

    private Fixtures.Result pullAsOtherUser() throws Exception {
        return asOtherUser("-jar", jar.toString(), "--socket", socket.toString(), "cp", db.toString(), "-");
    }

    private boolean serverRefused(String user) {
        return log.records().stream().anyMatch(r -> r.getLevel().equals(Level.WARNING) && r.getMessage() != null
                && r.getMessage().startsWith("refused a control connection from user " + user + ": only root may use this socket"));
    }

    @Test
    void anotherUserIsRefusedEvenWhenTheSocketModeLetsItConnect() throws Exception {
        startServer();
        openUpModes();
        byte[] before = Files.readAllBytes(db);
        String other = otherUserName();

        Fixtures.Result pull = pullAsOtherUser();
        assertEquals(1, pull.exit(), pull.toString());
        assertEquals(0, pull.stdout().length, "nothing may be pulled for another user: " + pull);
        assertTrue(pull.stderr().startsWith("ERROR: "), pull.toString());
        assertFalse(pull.stderr().contains("connecting to"), "the client must have connected (modes open): " + pull);
        Fixtures.Result bare = bareClientAsOtherUser();
        assertEquals(1, bare.exit(), bare.toString());
        assertTrue(serverRefused(other), "expected a WARNING naming the refused user " + other + "; log:\n" + log.dump());
        assertFalse(log.messages().stream().anyMatch(m -> m.startsWith("command:") || m.startsWith("pull started")),
                "the server must not even read the other user's command; log:\n" + log.dump());

        // And a push as the other user, from a file it owns.
        Path mine = dir.resolve("theirs.sqlite3");
        Fixtures.itemsDb(mine, "intruder");
        Files.setOwner(mine, mine.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(Integer.toString(OTHER_UID)));
        Fixtures.Result push = asOtherUser("-jar", jar.toString(), "--socket", socket.toString(), "cp", mine.toString(), db.toString());
        assertEquals(1, push.exit(), push.toString());
        assertEquals(0, push.stdout().length, push.toString());
        assertFalse(log.messages().stream().anyMatch(m -> m.startsWith("push started")),
                "no push may start for another user; log:\n" + log.dump());

        // And the status, which would tell paths and activity.
        Fixtures.Result status = asOtherUser("-jar", jar.toString(), "--socket", socket.toString(), "status", "--json");
        assertEquals(1, status.exit(), status.toString());
        assertEquals(0, status.stdout().length, status.toString());

        assertArrayEquals(before, Files.readAllBytes(db), "the live database changed");
        assertEquals(List.of("alpha", "bravo"), Fixtures.query(db, "SELECT name FROM items ORDER BY id"));
        assertEquals(List.of(), Fixtures.leftovers(dir));

        // Control: the owner gets in through the same socket.
        Fixtures.Result owner = Fixtures.cli(dir, Map.of(), null, "--socket", socket.toString(), "cp", db.toString(), "-");
        assertEquals(0, owner.exit(), owner.toString());
        assertTrue(new String(owner.stdout(), 0, Math.min(16, owner.stdout().length), java.nio.charset.StandardCharsets.ISO_8859_1)
                .equals("SQLite format 3\0"), "the owner's pull should be a database: " + owner);
    }

    @Test
    void theRefusedUserIsToldWhy() throws Exception {
        startServer();
        openUpModes();
        String other = otherUserName();
        Fixtures.Result bare = bareClientAsOtherUser();
        assertEquals(1, bare.exit(), bare.toString());
        assertTrue(bare.stderr().startsWith("ERROR: permission denied: user " + other + " may not use this hotswap server; "
                + "run the command as root"), "expected the server's refusal naming " + other + ": " + bare);
        assertTrue(serverRefused(other), "expected a WARNING naming the refused user; log:\n" + log.dump());
    }

    @Test
    void theRealClientOfAnotherUserRefusesTheServerBeforeSendingAnything() throws Exception {
        startServer();
        openUpModes();
        Fixtures.Result pull = pullAsOtherUser();
        assertEquals(1, pull.exit(), pull.toString());
        assertTrue(pull.stderr().startsWith("ERROR: the server at " + socket + " runs as user root, which is not you ("
                + otherUserName() + "); nothing was sent."), pull.toString());
        assertFalse(log.messages().stream().anyMatch(m -> m.startsWith("command:")), "log:\n" + log.dump());
    }

    /**
     * Connects as the other user with a bare client that sends nothing (the server speaks first and
     * checks the peer before it reads), prints the server's stderr frames on its stderr and exits
     * with the status the server sends.
     */
    private Fixtures.Result bareClientAsOtherUser() throws Exception {
        Path script = Files.writeString(dir.resolve("hello.py"), """
                import socket, struct, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sys.argv[1])
                data = b""
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    data += b
                i = 0
                while i + 5 <= len(data):
                    tag, n = data[i:i + 1], struct.unpack(">i", data[i + 1:i + 5])[0]
                    payload, i = data[i + 5:i + 5 + n], i + 5 + n
                    if tag == b"E":
                        sys.stderr.write(payload.decode())
                    elif tag == b"X":
                        sys.exit(struct.unpack(">i", payload)[0])
                sys.exit(99)
                """);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "needs /usr/bin/python3 for a bare client");
        List<String> command = new ArrayList<>(List.of(setpriv(), "--reuid=" + OTHER_UID, "--regid=" + OTHER_UID, "--clear-groups"));
        command.addAll(List.of("/usr/bin/python3", script.toString(), socket.toString()));
        return Fixtures.run(dir, Map.of(), null, command);
    }

    @Test
    void withTheDefaultModesAnotherUserCannotEvenConnect() throws Exception {
        startServer();
        // Only the directories are opened: the socket file keeps its 0600.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(socket.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
        Fixtures.Result java = asOtherUser("-version");
        Assumptions.assumeTrue(java.exit() == 0, "java cannot run as uid " + OTHER_UID + ": " + java);
        byte[] before = Files.readAllBytes(db);

        Fixtures.Result pull = asOtherUser("-jar", jar.toString(), "--socket", socket.toString(), "cp", db.toString(), "-");
        assertEquals(1, pull.exit(), pull.toString());
        assertEquals(0, pull.stdout().length, pull.toString());
        assertTrue(pull.stderr().startsWith("ERROR: permission denied connecting to " + socket), pull.toString());
        assertArrayEquals(before, Files.readAllBytes(db));
        if (log.messages().stream().anyMatch(m -> m.contains("refused a control connection from user"))) {
            fail("the kernel should have refused the connection before the server saw it; log:\n" + log.dump());
        }
    }
}
