package hotswap.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real OpenSSH server on 127.0.0.1 for remote copies in tests and in the bench: its host key,
 * a client key and key-only auth live in a directory of the caller's, and {@link #rsh} is the
 * {@code ssh} command that reaches it. Needs /usr/sbin/sshd (Debian's openssh-server).
 */
public final class Sshd implements AutoCloseable {
    private static final Path SSHD = Path.of("/usr/sbin/sshd");
    private static final Path KEYGEN = Path.of("/usr/bin/ssh-keygen");

    private final Process process;
    private final String rsh;

    private Sshd(Process process, String rsh) {
        this.process = process;
        this.rsh = rsh;
    }

    /** Why an sshd cannot run here: the reason a test skips, or the bench leaves a row out. */
    public static final class Unavailable extends Exception {
        Unavailable(String why) {
            super(why);
        }
    }

    /** Starts an sshd whose keys, config and log go in {@code dir}, and waits until it accepts connections. */
    public static Sshd start(Path dir) throws Unavailable, IOException, InterruptedException {
        if (!Files.isExecutable(SSHD) || !Files.isExecutable(KEYGEN)) {
            throw new Unavailable(SSHD + " or " + KEYGEN + " not found (install openssh-server)");
        }
        for (String key : List.of("host_key", "client_key")) {
            Process p = new ProcessBuilder(KEYGEN.toString(), "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve(key).toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new Unavailable("ssh-keygen failed: " + out);
            }
        }
        Files.copy(dir.resolve("client_key.pub"), dir.resolve("authorized_keys"));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path config = Files.writeString(dir.resolve("sshd_config"), String.join("\n",
                "Port " + port,
                "ListenAddress 127.0.0.1",
                "HostKey " + dir.resolve("host_key"),
                "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "UsePAM no",
                "StrictModes no",
                "PidFile " + dir.resolve("sshd.pid"),
                ""));
        try {
            Files.createDirectories(Path.of("/run/sshd")); // its privilege-separation directory
        } catch (IOException e) {
            // Not root: sshd says whether it can do without.
        }
        Path log = dir.resolve("sshd.log");
        Process process = new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                break;
            } catch (IOException e) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    process.destroyForcibly();
                    throw new Unavailable("sshd did not start: " + Files.readString(log).strip());
                }
                Thread.sleep(50);
            }
        }
        return new Sshd(process, "ssh -p " + port + " -i " + dir.resolve("client_key")
                + " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes");
    }

    /** The transport command that reaches this server: give it the host 127.0.0.1, or any name with {@code -o HostName=127.0.0.1}. */
    public String rsh() {
        return rsh;
    }

    /** Stops the server; it removes its pid file as it goes. */
    @Override
    public void close() {
        process.destroy();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
