package hotswap.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;

/**
 * The user this client runs as, to compare with the user of the server behind the socket and
 * with the owner of a file the server offers. The JDK does not expose the process's uid; on Linux
 * {@code /proc/self} belongs to it, and a {@link UserPrincipal} of the same uid equals it whatever
 * its name.
 */
final class OwnUser {
    private static final Path SELF = Path.of("/proc/self");

    private OwnUser() {
    }

    /** This process's user; an IOException where {@code /proc/self} cannot tell it (not Linux). */
    static UserPrincipal principal() throws IOException {
        return Files.getOwner(SELF);
    }

    /** This process's uid, as {@code unix:uid} file attributes report owners. */
    static int uid() throws IOException {
        try {
            return (Integer) Files.getAttribute(SELF, "unix:uid");
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            throw new IOException("this platform does not report user ids", e);
        }
    }
}
