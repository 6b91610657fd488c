package hotswap.wire;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;

/**
 * The user this process runs as: the client compares it with the user of the server behind the
 * socket and with the owner of a file the server offers; the server serves only clients of it.
 * The JDK does not expose the process's uid; on Linux {@code /proc/self} belongs to it, and a
 * {@link UserPrincipal} of the same uid equals it whatever its name.
 *
 * <p>Internal to hotswap: the client and the server share it; it is not part of the public API.
 */
public final class OwnUser {
    private static final Path SELF = Path.of("/proc/self");

    private OwnUser() {
    }

    /** This process's user; an IOException where {@code /proc/self} cannot tell it (not Linux). */
    public static UserPrincipal principal() throws IOException {
        return Files.getOwner(SELF);
    }

    /** This process's uid, as {@code unix:uid} file attributes report owners. */
    public static int uid() throws IOException {
        try {
            return (Integer) Files.getAttribute(SELF, "unix:uid");
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            throw new IOException("this platform does not report user ids", e);
        }
    }
}
