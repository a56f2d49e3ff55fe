Attribute VB_Name = "ProcoreRibbon"
Option Explicit
' Procore ribbon tab (customUI/customUI14.xml) -> Python (procore_xl.addin.macros).
'
' Each ribbon button calls a callback "ProcoreRibbon.On<Button>(control As IRibbonControl)"
' (the RibbonX onAction signature, qualified with this module). The callback only calls a
' plain macro "Procore<Button>Macro" without arguments: that one is what Alt+F8, a sheet
' button and the tests run. RunPython comes from the embedded xlwings module.
'
' Excel resolves an onAction like Application.Run, which looks up a workbook name first:
' no callback or macro here may be named like a workbook name (ProcoreEnvironment, ...).
' tests/test_workbook_build.py fails on any such clash.

' --- ribbon callbacks ------------------------------------------------------------

Public Sub OnConnect(control As IRibbonControl)
    ProcoreConnectMacro
End Sub

Public Sub OnSignOut(control As IRibbonControl)
    ProcoreSignOutMacro
End Sub

Public Sub OnEnvironment(control As IRibbonControl)
    ProcoreEnvironmentMacro
End Sub

Public Sub OnInsertReport(control As IRibbonControl)
    ProcoreInsertReportMacro
End Sub

Public Sub OnInsertAnalysis(control As IRibbonControl)
    ProcoreInsertAnalysisMacro
End Sub

Public Sub OnRefreshSheet(control As IRibbonControl)
    ProcoreRefreshSheetMacro
End Sub

Public Sub OnRefreshSheetFull(control As IRibbonControl)
    ProcoreRefreshSheetFullMacro
End Sub

Public Sub OnRefreshAll(control As IRibbonControl)
    ProcoreRefreshAllMacro
End Sub

Public Sub OnUpdateDropdowns(control As IRibbonControl)
    ProcoreUpdateDropdownsMacro
End Sub

' --- plain macros ----------------------------------------------------------------

Public Sub ProcoreConnectMacro()
    RunPython "import procore_xl.addin.macros as m; m.connect()"
End Sub

Public Sub ProcoreSignOutMacro()
    RunPython "import procore_xl.addin.macros as m; m.sign_out()"
End Sub

Public Sub ProcoreEnvironmentMacro()
    RunPython "import procore_xl.addin.macros as m; m.choose_environment()"
End Sub

Public Sub ProcoreInsertReportMacro()
    RunPython "import procore_xl.addin.macros as m; m.insert_report()"
End Sub

Public Sub ProcoreInsertAnalysisMacro()
    RunPython "import procore_xl.addin.macros as m; m.insert_analysis()"
End Sub

Public Sub ProcoreRefreshSheetMacro()
    RunPython "import procore_xl.addin.macros as m; m.refresh_sheet()"
End Sub

Public Sub ProcoreRefreshSheetFullMacro()
    RunPython "import procore_xl.addin.macros as m; m.refresh_sheet_full()"
End Sub

Public Sub ProcoreRefreshAllMacro()
    RunPython "import procore_xl.addin.macros as m; m.refresh_all()"
End Sub

Public Sub ProcoreUpdateDropdownsMacro()
    RunPython "import procore_xl.addin.macros as m; m.update_dropdowns()"
End Sub
