package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hotswap.bench.Sshd;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Remote copies through a real OpenSSH: an {@code sshd} on 127.0.0.1 with key-only auth set up
 * here in a temp directory, and the real {@code ssh} client as the transport. Skipped, saying why,
 * only where sshd cannot start ({@code .ci/run} installs openssh-server when it runs as root).
 */
class RemoteSshdTest {
    private static Path keys;
    private static Sshd sshd;
    private static String skipped;

    RemoteSide remote;

    @BeforeAll
    static void startSshd() throws Exception {
        keys = Fixtures.tempDir();
        try {
            sshd = Sshd.start(keys);
        } catch (Sshd.Unavailable e) {
            skipped = e.getMessage();
            System.out.println("RemoteSshdTest skipped: " + skipped);
        }
    }

    @AfterAll
    static void stopSshd() {
        if (sshd != null) {
            sshd.close();
        }
        Fixtures.deleteTree(keys);
    }

    @BeforeEach
    void setUp() throws Exception {
        Assumptions.assumeTrue(skipped == null, () -> skipped);
        remote = new RemoteSide("app").start();
    }

    @AfterEach
    void tearDown() {
        if (remote != null) {
            remote.close();
        }
    }

    private String target() {
        return System.getProperty("user.name") + "@127.0.0.1:db/production.sqlite3";
    }

    private List<String> options() {
        return List.of("--rsh", sshd.rsh(), "--remote-dir", remote.appDir.toString());
    }

    @Test
    void pushAndPullThroughSsh() throws Exception {
        Fixtures.itemsDb(remote.local.resolve("new.sqlite3"), "over ssh");
        Fixtures.Result push = remote.cpWith(options(), null, "new.sqlite3", target());
        assertEquals(0, push.exit(), push.toString());
        assertEquals("OK\n", push.out(), push.toString());
        assertEquals(List.of("over ssh"), remote.items());

        Fixtures.Result pull = remote.cpWith(options(), null, target(), "backup.sqlite3");
        assertEquals(0, pull.exit(), pull.toString());
        assertEquals(List.of("over ssh"), Fixtures.query(remote.local.resolve("backup.sqlite3"), "SELECT name FROM items"));

        Fixtures.Result missing = remote.cpWith(options(), null, target().replace("production", "missing"), "-");
        assertEquals(1, missing.exit(), missing.toString());
        assertTrue(missing.stderr().startsWith("ERROR: on " + System.getProperty("user.name") + "@127.0.0.1: cannot read "
                + "db/missing.sqlite3: no such file; nothing changed."), missing.toString());
    }

    @Test
    void killingSshMidPushLeavesTheRemoteDatabaseOld() throws Exception {
        Fixtures.itemsDb(remote.local.resolve("new.sqlite3"), "fresh");
        Fixtures.createDb(remote.local.resolve("new.sqlite3"), "PRAGMA journal_mode=DELETE",
                "INSERT INTO items(name) VALUES (randomblob(3000000))");
        byte[] bytes = Files.readAllBytes(remote.local.resolve("new.sqlite3"));
        List<String> command = new java.util.ArrayList<>(List.of(Fixtures.java(), "-jar", Fixtures.jar().toString(), "cp", "-", target()));
        command.addAll(options());
        Process client = new ProcessBuilder(command).directory(remote.local.toFile()).start();
        client.getOutputStream().write(bytes, 0, bytes.length * 2 / 3);
        client.getOutputStream().flush();
        remote.awaitPushReceiving();
        ProcessHandle ssh = client.children().findFirst().orElseThrow();
        assertTrue(ssh.info().command().orElse("").endsWith("/ssh"), ssh.info().toString());
        ssh.destroyForcibly();
        assertTrue(client.waitFor(30, TimeUnit.SECONDS), "the client did not exit");
        String stderr = new String(client.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(1, client.exitValue(), stderr);
        assertTrue(stderr.contains("ERROR: the connection to " + System.getProperty("user.name") + "@127.0.0.1 ended before the "
                + "command finished; the app there keeps the old database or the new one, whole"), stderr);
        remote.assertOldDatabaseAndNoTempFileSoon();
    }
}
