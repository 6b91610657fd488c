package hotswap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The transport's argument vector and the quoting of the remote command, checked against a real sh. */
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
    void aQuotedWordIsOneLiteralWordToARealShell() throws Exception {
        List<String> words = List.of("plain", "it's", "\"dq\"", "$(touch /tmp/pwned-hs)", "`id`", "a;b|c&d", "back\\slash",
                "new\nline", "  spaces  ", "*", "~", "-n", "'", "''");
        StringBuilder line = new StringBuilder("printf '%s\\0'");
        for (String w : words) {
            line.append(' ').append(RemoteCommand.quote(w));
        }
        Process sh = new ProcessBuilder("sh", "-c", line.toString()).start();
        String out = new String(sh.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, sh.waitFor());
        List<String> back = new ArrayList<>(List.of(out.split("\0", -1)));
        back.remove(back.size() - 1);
        assertEquals(words, back);
    }
}
