package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import hotswap.wire.OpenHandles;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An app whose /proc is not its own PID namespace's (started with {@code unshare -pf} without
 * {@code --mount-proc}, a sandbox that keeps the host's /proc): the pid the JVM knows itself by is
 * not the name of its own /proc entry. Its own descriptors on the live database must not make it
 * "another process", or every push is refused while the app merely has the database open.
 */
class OwnProcessInOtherPidNamespaceTest {
    /** Opens the file, then prints what otherProcessesHolding says about it. */
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            System.out.println("holders=" + OpenHandles.otherProcessesHolding(OpenHandles.inodeOf(file), OpenHandles.NO_DEADLINE));
        }
    }

    private static String where(Class<?> c) throws Exception {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    @Test
    void theAppsOwnDescriptorsAreNotAnotherProcess(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "no unshare");
        Process probe = new ProcessBuilder("/usr/bin/unshare", "-p", "-f", "true").start();
        Assumptions.assumeTrue(probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0, "no PID namespaces here");
        Path file = Files.writeString(dir.resolve("live.sqlite3"), "x");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder("/usr/bin/unshare", "-p", "-f", java, "-cp", where(OwnProcessInOtherPidNamespaceTest.class) + ":" + where(OpenHandles.class),
                OwnProcessInOtherPidNamespaceTest.class.getName(), file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        p.waitFor(30, TimeUnit.SECONDS);
        assertEquals("holders=" + List.of(), out);
    }
}
