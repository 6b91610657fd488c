package hotswap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Which words of {@code cp} name a remote file, read as scp reads them. */
class RemoteTargetTest {

    @Test
    void aHostIsWhatComesBeforeTheFirstColonWithNoSlashBeforeIt() throws Exception {
        assertEquals(new RemoteTarget("me@h", "db/x.sqlite3"), RemoteTarget.parse("me@h:db/x.sqlite3"));
        assertEquals(new RemoteTarget("h", "a:b"), RemoteTarget.parse("h:a:b"));
        for (String local : new String[] {"x.sqlite3", "./h:x", "/abs/h:x", "dir/h:x", ":x", "-"}) {
            assertNull(RemoteTarget.parse(local), local);
        }
    }

    /**
     * An IPv6 address holds colons of its own: as for scp it goes in brackets, alone or after
     * {@code user@}, and reaches the transport without them. Taken at its first colon, {@code [::1]:x}
     * went to a host named {@code [}.
     */
    @Test
    void anIpv6AddressInBracketsIsOneHostAndReachesTheTransportWithoutThem() throws Exception {
        assertEquals(new RemoteTarget("[::1]", "db/x.sqlite3"), RemoteTarget.parse("[::1]:db/x.sqlite3"));
        assertEquals(new RemoteTarget("me@[fe80::1%eth0]", "/srv/x"), RemoteTarget.parse("me@[fe80::1%eth0]:/srv/x"));
        assertEquals("::1", RemoteTarget.address("[::1]"));
        assertEquals("me@fe80::1%eth0", RemoteTarget.address("me@[fe80::1%eth0]"));
        assertEquals("me@h", RemoteTarget.address("me@h"));
        // Without "]:" the word is a local file, as scp takes it; a slash makes it local too.
        for (String local : new String[] {"[::1]", "me@[::1]", "[::1]x", "./[::1]:x", "[fe80::1/64]:x"}) {
            assertNull(RemoteTarget.parse(local), local);
        }
        UsageError e = assertThrows(UsageError.class, () -> RemoteTarget.parse("[::1]:"));
        assertEquals("[::1]: names no file after the colon; write [::1]:PATH (for a local file named so, write ./[::1]:)", e.getMessage());
    }
}
