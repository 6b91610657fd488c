package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
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
    private static final Path SSHD = Path.of("/usr/sbin/sshd");
    private static Path keys;
    private static Process sshd;
    private static String rsh;
    private static String skipped;

    RemoteSide remote;

    @BeforeAll
    static void startSshd() throws Exception {
        if (!Files.isExecutable(SSHD) || !Files.isExecutable(Path.of("/usr/bin/ssh-keygen"))) {
            skip(SSHD + " or ssh-keygen not found (install openssh-server)");
            return;
        }
        keys = Fixtures.tempDir();
        for (String key : List.of("host_key", "client_key")) {
            Process p = new ProcessBuilder("/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keys.resolve(key).toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                skip("ssh-keygen failed: " + out);
                return;
            }
        }
        Files.copy(keys.resolve("client_key.pub"), keys.resolve("authorized_keys"));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path config = Files.writeString(keys.resolve("sshd_config"), String.join("\n",
                "Port " + port,
                "ListenAddress 127.0.0.1",
                "HostKey " + keys.resolve("host_key"),
                "AuthorizedKeysFile " + keys.resolve("authorized_keys"),
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "UsePAM no",
                "StrictModes no",
                "PidFile " + keys.resolve("sshd.pid"),
                ""));
        try {
            Files.createDirectories(Path.of("/run/sshd")); // its privilege-separation directory
        } catch (IOException e) {
            // Not root: sshd says whether it can do without.
        }
        sshd = new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", config.toString())
                .redirectErrorStream(true).redirectOutput(keys.resolve("sshd.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                break;
            } catch (IOException e) {
                if (!sshd.isAlive() || System.nanoTime() > deadline) {
                    skip("sshd did not start: " + Files.readString(keys.resolve("sshd.log")).strip());
                    return;
                }
                Thread.sleep(50);
            }
        }
        rsh = "ssh -p " + port + " -i " + keys.resolve("client_key")
                + " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes";
    }

    private static void skip(String why) {
        skipped = why;
        System.out.println("RemoteSshdTest skipped: " + why);
    }

    @AfterAll
    static void stopSshd() {
        if (sshd != null) {
            sshd.destroy();
            try {
                sshd.waitFor(5, TimeUnit.SECONDS); // it removes its pid file as it goes
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
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
        return List.of("--rsh", rsh, "--remote-dir", remote.appDir.toString());
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
        assertEquals("ERROR: on " + System.getProperty("user.name") + "@127.0.0.1: cannot read db/missing.sqlite3: no such file\n",
                missing.stderr());
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
