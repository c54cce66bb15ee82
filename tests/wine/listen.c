/* A Windows TCP listener for the Wine smoke test (.ci/wine): `listen.exe TOKEN PORT` listens on
 * 127.0.0.1:PORT until it is ended. */
#include <winsock2.h>
#include <windows.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    WSADATA w;
    if (WSAStartup(MAKEWORD(2, 2), &w)) return 3;
    SOCKET s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((u_short)atoi(argv[2]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 4)) return 4;
    Sleep(INFINITE);
    return 0;
}
