/* A Windows tree that keeps growing, for the Wine test of the tree kill (tests/wine/tree.sh):
 * `spawner.exe TOKEN WIDTH DEPTH` starts WIDTH children one after another (each
 * `spawner.exe TOKEN WIDTH DEPTH-1`, so every process carries TOKEN), then sleeps until it is
 * ended; WIDTH 4, DEPTH 4 is 1 + 4 + 16 + 64 + 256 = 341 processes. */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    int width = atoi(argv[2]), depth = atoi(argv[3]);
    if (depth > 0) {
        char exe[MAX_PATH], cmd[2 * MAX_PATH];
        if (!GetModuleFileNameA(NULL, exe, sizeof exe)) return 3;
        snprintf(cmd, sizeof cmd, "\"%s\" %s %d %d", exe, argv[1], width, depth - 1);
        for (int i = 0; i < width; i++) {
            STARTUPINFOA si = {sizeof si};
            PROCESS_INFORMATION pi;
            if (CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
                CloseHandle(pi.hThread);
                CloseHandle(pi.hProcess);
            }
            Sleep(10);
        }
    }
    Sleep(INFINITE);
    return 0;
}
