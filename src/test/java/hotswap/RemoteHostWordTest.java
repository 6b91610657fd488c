package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What of a remote target's host reaches the transport's command line. A host starting with
 * {@code -} is refused before any transport runs, since the transport (ssh) would take it for an
 * option ({@code -oProxyCommand=...} runs a command here). An IPv6 address in brackets reaches the
 * transport without them, so {@code [-oProxyCommand=touch x]:db} passed the check on the host as
 * typed, and ssh got {@code -oProxyCommand=touch x} as a word of its own; {@code []:db} gave it an
 * empty host.
 */
class RemoteHostWordTest {
    private Path dir;

    @AfterEach
    void tearDown() throws Exception {
        if (dir != null) {
            Fixtures.deleteTree(dir);
        }
    }

    @Test
    void aBracketedHostThatWouldReachTheTransportAsAnOptionOrAsNothingIsRefusedBeforeItRuns() throws Exception {
        dir = Fixtures.tempDir();
        Fixtures.itemsDb(dir.resolve("new.sqlite3"), "new");
        Path ran = dir.resolve("ran");
        Path rsh = dir.resolve("rsh.sh");
        Files.writeString(rsh, "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '" + ran + "'\nexit 1\n");
        Files.setPosixFilePermissions(rsh, PosixFilePermissions.fromString("rwx------"));
        Map<String, String> env = Map.of();
        for (String host : new String[] {"[-oProxyCommand=touch pwned]", "[-x]", "[]", "me@[]", "-oProxyCommand=x"}) {
            Fixtures.Result push = Fixtures.cli(dir, env, null, "cp", "--rsh", rsh.toString(), "--", "new.sqlite3", host + ":db/x.sqlite3");
            assertEquals(2, push.exit(), host + ": " + push);
            assertTrue(push.stderr().startsWith("ERROR: host " + host + " "), host + ": " + push);
            Fixtures.Result pull = Fixtures.cli(dir, env, null, "cp", "--rsh", rsh.toString(), "--", host + ":db/x.sqlite3", "back.sqlite3");
            assertEquals(2, pull.exit(), host + ": " + pull);
            Fixtures.Result status = Fixtures.cli(dir, env, null, "status", "--rsh", rsh.toString(), "--", host + ":");
            assertEquals(2, status.exit(), host + ": " + status);
            assertTrue(status.stderr().startsWith("ERROR: host " + host + " "), host + ": " + status);
            assertFalse(Files.exists(ran), host + " reached the transport as: " + (Files.exists(ran) ? Files.readString(ran) : ""));
        }
        assertFalse(Files.exists(dir.resolve("back.sqlite3")));
        assertFalse(Files.exists(dir.resolve("pwned")));
        // An address that is not an option still reaches it, without its brackets.
        Fixtures.Result push = Fixtures.cli(dir, env, null, "cp", "new.sqlite3", "me@[::1]:db/x.sqlite3", "--rsh", rsh.toString());
        assertEquals(1, push.exit(), push.toString());
        assertEquals("me@::1", Files.readAllLines(ran).get(0));
    }
}
