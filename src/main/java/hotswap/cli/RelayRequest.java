package hotswap.cli;

import hotswap.wire.ProtocolException;
import java.util.List;

/**
 * What a remote {@code cp} tells the relay before its cp request: which side of the copy is the
 * relay's, the path there as the user typed it (the relay resolves it on its own file system), and
 * the socket the user named with {@code --socket}, if any. The cp request that follows has
 * {@code -} on the relay's side; the relay puts the resolved path there.
 *
 * @param push   true when the relay's side is the destination
 * @param path   the remote PATH, relative to the relay's directory or absolute
 * @param socket the app's socket as given to {@code --socket}, or null for the relay's default
 */
record RelayRequest(boolean push, String path, String socket) {
    static final String COMMAND = "relay";

    List<String> encode() {
        return List.of(COMMAND, push ? "push" : "pull", path, socket == null ? "" : socket);
    }

    static RelayRequest decode(List<String> strings) throws ProtocolException {
        if (strings.size() != 4 || !COMMAND.equals(strings.get(0))) {
            throw new ProtocolException("expected a relay request");
        }
        boolean push = switch (strings.get(1)) {
            case "push" -> true;
            case "pull" -> false;
            default -> throw new ProtocolException("relay side must be push or pull: " + strings.get(1));
        };
        String path = strings.get(2);
        if (path.isEmpty() || path.indexOf('\0') >= 0) {
            throw new ProtocolException("relay path is empty or contains a NUL byte");
        }
        String socket = strings.get(3);
        if (socket.indexOf('\0') >= 0) {
            throw new ProtocolException("socket path contains a NUL byte");
        }
        return new RelayRequest(push, path, socket.isEmpty() ? null : socket);
    }
}
