package hotswap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The transport's argument vector, and the remote command checked against real login shells. */
class RemoteCommandTest {

    @Test
    void theHostIsAppendedOrReplacesTheHostWordAndTheRemoteCommandIsAlwaysLast() throws Exception {
        assertEquals(List.of("ssh", "-p", "2222", "me@h", "CMD"), RemoteCommand.argv("ssh -p 2222", "me@h", "CMD"));
        assertEquals(List.of("fly", "ssh", "console", "-a", "my-app", "-C", "CMD"),
                RemoteCommand.argv("fly ssh console -a {host} -C", "my-app", "CMD"));
        assertEquals(List.of("ssh", "-i", "/k/my key", "-o", "Hostname=h", "x", "CMD"),
                RemoteCommand.argv("ssh -i '/k/my key' -o Hostname={host} x", "h", "CMD"));
        assertEquals(List.of("a b", "c\"d", "e f", "h", "CMD"), RemoteCommand.argv("\"a b\" 'c\"d' e\\ f", "h", "CMD"));
        assertThrows(UsageError.class, () -> RemoteCommand.argv("   ", "h", "CMD"));
        assertThrows(UsageError.class, () -> RemoteCommand.argv("ssh 'open", "h", "CMD"));
    }

    @Test
    void theScriptReadsTheSameToEveryLoginShell() {
        for (char c : new char[] {'\'', '\\', '!', '\n'}) {
            assertEquals(-1, RemoteCommand.SCRIPT.indexOf(c), "the script holds " + c);
        }
    }

    /**
     * The remote command under each login shell ssh may hand it to: the directory and hotswap come
     * from stdin byte for byte, whatever they hold, and the relay gets the rest of stdin untouched.
     */
    @Test
    void hostileDirectoryAndHotswapArriveLiterallyUnderShFishAndTcsh() throws Exception {
        Path root = Files.createTempDirectory("hotswap-remote-command");
        try {
            Path show = Files.writeString(root.resolve("show"), "#!/bin/sh\nd=$(pwd; echo x)\nprintf '%s|%s|' \"${d%?x}\" \"$*\"; cat\n");
            show.toFile().setExecutable(true);
            List<String> dirs = List.of("plain", "it's", "two\\\\back", "q\\'x", "bang!x", "$HOME", "`id`;x", "new\nline",
                    "ends in newline\n", "  spaces  ", "-n", "\u00e9t\u00e9");
            for (String shell : List.of("sh", "fish", "tcsh")) {
                Assumptions.assumeTrue(onPath(shell), shell + " is not installed (.ci/run installs it)");
                for (String dir : dirs) {
                    Path d = Files.createDirectories(root.resolve(dir));
                    Path hotswap = Files.copy(show, d.resolve("hot swap's!"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    Process p = new ProcessBuilder(shell, "-c", RemoteCommand.LINE).directory(root.toFile()).start();
                    try (var in = p.getOutputStream()) {
                        in.write(RemoteCommand.preamble(dir, "./" + hotswap.getFileName()));
                        in.write("rest\n\u0000bytes".getBytes(StandardCharsets.UTF_8));
                    }
                    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                    assertEquals(0, p.waitFor(), shell + " " + dir + ": " + err);
                    assertEquals(d.toRealPath() + "|relay|rest\n\u0000bytes", out, shell + " with " + dir);
                }
            }
        } finally {
            try (var files = Files.walk(root)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}
