/* A Windows process for the Wine smoke test (.ci/wine): `sleeper.exe TOKEN [N]` starts a chain
 * of N processes (itself, its child, its grandchild...), each with TOKEN on its command line,
 * and each sleeps until it is ended. */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    int n = argc > 2 ? atoi(argv[2]) : 1;
    if (n > 1) {
        char exe[MAX_PATH], cmd[2 * MAX_PATH];
        if (!GetModuleFileNameA(NULL, exe, sizeof exe)) return 3;
        snprintf(cmd, sizeof cmd, "\"%s\" %s %d", exe, argv[1], n - 1);
        STARTUPINFOA si = {sizeof si};
        PROCESS_INFORMATION pi;
        if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) return 4;
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
    }
    Sleep(INFINITE);
    return 0;
}
