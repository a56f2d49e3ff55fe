Attribute VB_Name = "ProcoreRibbon"
Option Explicit
' Procore ribbon tab (customUI/customUI14.xml) -> Python (procore_xl.macros).
'
' Each ribbon button calls a callback "Procore<Button>(control As IRibbonControl)"
' (the RibbonX onAction signature). The callback only calls a plain macro
' "Procore<Button>Macro" without arguments: that one is what Alt+F8, a sheet
' button and the tests run. RunPython comes from the embedded xlwings module.

' --- ribbon callbacks ------------------------------------------------------------

Public Sub ProcoreConnect(control As IRibbonControl)
    ProcoreConnectMacro
End Sub

Public Sub ProcoreSignOut(control As IRibbonControl)
    ProcoreSignOutMacro
End Sub

Public Sub ProcoreEnvironment(control As IRibbonControl)
    ProcoreEnvironmentMacro
End Sub

Public Sub ProcoreInsertReport(control As IRibbonControl)
    ProcoreInsertReportMacro
End Sub

Public Sub ProcoreRefreshSheet(control As IRibbonControl)
    ProcoreRefreshSheetMacro
End Sub

Public Sub ProcoreRefreshAll(control As IRibbonControl)
    ProcoreRefreshAllMacro
End Sub

Public Sub ProcoreUpdateDropdowns(control As IRibbonControl)
    ProcoreUpdateDropdownsMacro
End Sub

' --- plain macros ----------------------------------------------------------------

Public Sub ProcoreConnectMacro()
    RunPython "import procore_xl.macros as m; m.connect()"
End Sub

Public Sub ProcoreSignOutMacro()
    RunPython "import procore_xl.macros as m; m.sign_out()"
End Sub

Public Sub ProcoreEnvironmentMacro()
    RunPython "import procore_xl.macros as m; m.choose_environment()"
End Sub

Public Sub ProcoreInsertReportMacro()
    RunPython "import procore_xl.macros as m; m.insert_report()"
End Sub

Public Sub ProcoreRefreshSheetMacro()
    RunPython "import procore_xl.macros as m; m.refresh_sheet()"
End Sub

Public Sub ProcoreRefreshAllMacro()
    RunPython "import procore_xl.macros as m; m.refresh_all()"
End Sub

Public Sub ProcoreUpdateDropdownsMacro()
    RunPython "import procore_xl.macros as m; m.update_dropdowns()"
End Sub
