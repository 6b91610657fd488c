package hotswap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * {@code status --json} prints the app's strings (database names, paths, the last swap's source) for
 * a terminal as often as for a program: C1 controls (U+0080 to U+009F, U+009B being CSI) must come
 * out escaped, as the table's {@link hotswap.wire.Printable} shows them as ?.
 */
class StatusJsonControlsTest {
    @Test
    void c1ControlsAreEscapedInJson() {
        assertEquals("\"a\\u009b2Jb\\u0085c\\u007f\"", StatusText.string("a\u009b2Jb\u0085c\u007f"));
    }
}
