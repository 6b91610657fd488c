package hotswap.cli;

import hotswap.wire.OwnUser;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.channels.SocketChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import jdk.net.ExtendedSocketOptions;

/**
 * Connects to the app's control socket and makes sure the app runs as this process's user before
 * a single byte is sent: a socket path in a shared directory, or one another user took over, must
 * not get this user's database or hand it a file to take. A local {@code cp} and the remote end of
 * a remote one ({@link Relay}) connect through here alike.
 */
final class AppSocket {
    /**
     * The longest path the JDK puts in a Unix socket address: one byte less than Linux's 107
     * (sun_path less its terminating NUL), for it refuses a path of 107 ("Unix domain path too long").
     */
    private static final int MAX_SOCKET_PATH_BYTES = 106;

    private AppSocket() {
    }

    /** Connects to the server at {@code socketPath} (absolute), refusing one that runs as another user. */
    static SocketChannel connect(Path socketPath) throws Failure, IOException {
        SocketChannel socket = open(socketPath, address(socketPath));
        try {
            checkServerRunsAsThisUser(socket, socketPath);
            return socket;
        } catch (Failure | RuntimeException e) {
            closeQuietly(socket);
            throw e;
        }
    }

    /**
     * The socket's absolute path; where that is longer than a socket address holds, the same path
     * relative to this process's working directory, which is what the kernel resolves a relative
     * address against (not the {@code cwd} an in-process caller passed).
     */
    private static UnixDomainSocketAddress address(Path socketPath) throws Failure {
        if (fitsAnAddress(socketPath)) {
            return UnixDomainSocketAddress.of(socketPath);
        }
        Path relative = Path.of("").toAbsolutePath().relativize(socketPath);
        if (fitsAnAddress(relative)) {
            return UnixDomainSocketAddress.of(relative);
        }
        throw new Failure("the socket path " + socketPath + " is too long: a Unix socket address holds at most "
                + MAX_SOCKET_PATH_BYTES + " bytes, and that path has " + bytes(socketPath) + " (" + bytes(relative)
                + " relative to this directory); nothing was sent. Run hotswap from the app's directory, or point "
                + "--socket (or HOTSWAP_SOCKET) at a shorter path");
    }

    private static boolean fitsAnAddress(Path path) {
        return bytes(path) <= MAX_SOCKET_PATH_BYTES;
    }

    private static int bytes(Path path) {
        return path.toString().getBytes(StandardCharsets.UTF_8).length;
    }

    private static SocketChannel open(Path socketPath, UnixDomainSocketAddress address) throws Failure, IOException {
        try {
            return SocketChannel.open(address);
        } catch (java.net.ConnectException | NoSuchFileException e) {
            throw noServer(socketPath);
        } catch (java.net.SocketException e) {
            String why = String.valueOf(e.getMessage());
            if (why.contains("Permission denied")) {
                throw new Failure("permission denied connecting to " + socketPath + "; nothing was sent. Run hotswap as the app's user");
            }
            if (why.contains("No such file") || why.contains("Connection refused")) {
                throw noServer(socketPath);
            }
            throw new Failure("cannot connect to " + socketPath + ": " + why + "; nothing was sent");
        } catch (IllegalArgumentException e) {
            throw new Failure("socket path " + socketPath + " is not usable: " + e.getMessage() + "; nothing was sent. Point --socket "
                    + "(or HOTSWAP_SOCKET) at the socket the app listens on");
        }
    }

    /** Says, as every error does, that nothing changed: a user who typed a push wants to know the database is as it was. */
    private static Failure noServer(Path socketPath) {
        return new NoServer("no hotswap server at " + socketPath + "; nothing was sent. Start the app, or point --socket "
                + "(or HOTSWAP_SOCKET) at the socket it listens on");
    }

    /** Nothing listens at the socket's path: the relay adds where a relative one was looked for. */
    static final class NoServer extends Failure {
        NoServer(String message) {
            super(message);
        }
    }

    /** Root is refused too: a server of another user, root included, is not the app this user runs. */
    private static void checkServerRunsAsThisUser(SocketChannel socket, Path socketPath) throws Failure {
        UserPrincipal me;
        UserPrincipal server;
        try {
            me = OwnUser.principal();
            server = socket.getOption(ExtendedSocketOptions.SO_PEERCRED).user();
        } catch (IOException | UnsupportedOperationException e) {
            throw new Failure("cannot tell which user the server at " + socketPath + " runs as (" + e.getMessage()
                    + "); nothing was sent. hotswap runs only where it can check that (Linux)");
        }
        if (!server.equals(me)) {
            throw new Failure("the server at " + socketPath + " runs as user " + server.getName() + ", which is not you ("
                    + me.getName() + "); nothing was sent. hotswap talks only to an app of its own user: run it as the "
                    + "app's user, or point --socket (or HOTSWAP_SOCKET) at your app's socket");
        }
    }

    static void closeQuietly(java.io.Closeable connection) {
        try {
            connection.close();
        } catch (IOException ignored) {
            // Closing is all we wanted.
        }
    }
}
