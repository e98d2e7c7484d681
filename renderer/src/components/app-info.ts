// The host's facts (transport, home folder...) for components deep in a step, without threading them through every prop.
import { createContext, useContext } from 'react';
import type { AppInfo } from '../../../shared/api';

export const AppInfoContext = createContext<AppInfo | undefined>(undefined);

export function useAppInfo(): AppInfo | undefined {
  return useContext(AppInfoContext);
}
